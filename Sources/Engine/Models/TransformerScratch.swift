import Kernels

/// The buffers of one `TransformerModel.forward` call, kept by the model between calls (`ScratchCache`) so a
/// decode step reuses the previous step's: shapes per row of the batch, n = n_embd, d = head size.
final class TransformerScratch {
    /// Per item its state; per row its item and absolute position.
    var states: [KVCacheState] = [], rowItem: [Int] = [], rowPosition: [Int] = []
    var seen = Set<ObjectIdentifier>()
    /// The residual stream `// (rows, n)`.
    let x = FloatBuffer()
    /// RoPE's cos and sin per row `// (rows, rope_dims / 2)`.
    let cos = FloatBuffer(), sin = FloatBuffer()
    /// `// (rows, n_head·d)`, `// (rows, n_head_kv·d)`, `// (rows, n_head_kv·d)`.
    let q = FloatBuffer(), k = FloatBuffer(), v = FloatBuffer()
    /// The attention input, its output `// (rows, n_head·d)` and the FFN input, as quantizable rows.
    let normed = ActivationRows(), attended = ActivationRows(), ffnInput = ActivationRows()
    /// The attention output projection and the FFN output `// (rows, n)`.
    let projected = FloatBuffer(), ffnOut = FloatBuffer()
    var products = ProductList()
    var attention = GroupedQueryAttention.Scratch()
    let mlp = SwiGLU.Scratch()
    let experts = MixtureOfExperts.Scratch()
    let head = OutputHead.Scratch()

    /// Drops the references to the call's states (the buffers stay).
    func finish() {
        states.removeAll(keepingCapacity: true)
        rowItem.removeAll(keepingCapacity: true)
        rowPosition.removeAll(keepingCapacity: true)
        seen.removeAll(keepingCapacity: true)
    }
}
