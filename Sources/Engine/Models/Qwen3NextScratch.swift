import Kernels

/// The buffers of one `Qwen3NextModel.forward` call, kept by the model between calls (`ScratchCache`) so a decode
/// step reuses the previous step's: shapes per row of the batch, n = n_embd.
final class Qwen3NextScratch {
    /// Per item its state, its rows and the position of its first; per row its position and attention cache.
    var states: [HybridSequenceState] = [], spans: [Range<Int>] = [], starts: [Int] = []
    var rowPosition: [Int] = [], rowCache: [KVCacheState] = []
    var seen = Set<ObjectIdentifier>()
    /// The residual stream, the mixer's output, the routed experts' and the shared expert's `// (rows, n)`.
    let x = FloatBuffer(), mixed = FloatBuffer(), ffnOut = FloatBuffer(), sharedOut = FloatBuffer()
    /// The mixer's and the MoE block's inputs, as quantizable rows `// (rows, n)`.
    let normed = ActivationRows(), ffnInput = ActivationRows()
    let deltaNet = GatedDeltaNet.Scratch()
    let attention = GatedAttention.Scratch()
    let experts = MixtureOfExperts.Scratch()
    let shared = SharedExpert.Scratch()
    let head = OutputHead.Scratch()

    /// Drops the references to the call's states (the buffers stay).
    func finish() {
        states.removeAll(keepingCapacity: true)
        spans.removeAll(keepingCapacity: true)
        starts.removeAll(keepingCapacity: true)
        rowPosition.removeAll(keepingCapacity: true)
        rowCache.removeAll(keepingCapacity: true)
        seen.removeAll(keepingCapacity: true)
    }
}
