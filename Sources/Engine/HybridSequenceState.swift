/// One sequence's state in a hybrid model (qwen3next): the KV cache of the attention layers beside the recurrent
/// state of the linear-attention (Gated DeltaNet) layers, which is a fixed size whatever the length.
///
/// A recurrent state cannot be rewound, so `truncate(to:)` only goes back to a length where a snapshot was kept
/// (`takeSnapshot()`, meant for chunk boundaries, DESIGN.md §6) or to 0. Taking a snapshot is cheap: Swift arrays
/// are copy-on-write, so it shares the buffers until the next token writes them.
public final class HybridSequenceState: SequenceState, @unchecked Sendable {
    // Mutated only inside the model's forward call, which the serving layer never runs concurrently for one
    // state (a state belongs to one request at a time; LanguageModel's contract).

    /// The recurrent part of one linear-attention layer.
    struct Recurrent: Sendable {
        /// The last `kernel − 1` inputs of the causal conv, oldest first: `// (kernel − 1, convChannels)`.
        var conv: [Float]
        /// The delta-rule state of every value head: `// (valueHeads, keyDim, valueDim)`.
        var delta: [Float]
    }

    /// The KV cache of the attention layers (indexed by attention-layer ordinal, not by layer).
    let attention: KVCacheState
    /// One entry per linear-attention layer, in layer order.
    var recurrent: [Recurrent]
    private let empty: [Recurrent]
    /// Recurrent states kept at the lengths they were taken at.
    private var snapshots: [Int: [Recurrent]] = [:]

    public var length: Int { attention.length }
    public var capacity: Int { attention.capacity }

    init(attentionLayers: Int, kvWidth: Int, linearLayers: Int, convFloats: Int, deltaFloats: Int, capacity: Int)
        throws(EngineError)
    {
        attention = try KVCacheState(layers: attentionLayers, width: kvWidth, capacity: capacity)
        let zero = Recurrent(conv: [Float](repeating: 0, count: convFloats),
                             delta: [Float](repeating: 0, count: deltaFloats))
        recurrent = [Recurrent](repeating: zero, count: linearLayers)
        empty = recurrent
    }

    /// Keeps the current recurrent state so that `truncate(to: length)` can come back to this point.
    public func takeSnapshot() {
        snapshots[length] = recurrent
    }

    /// Forgets every snapshot (their memory is shared with the live state only until it changes).
    public func discardSnapshots() {
        snapshots = [:]
    }

    /// The lengths `truncate(to:)` accepts besides the current one: 0 and every snapshot point not beyond it.
    public var snapshotLengths: [Int] {
        ([0] + snapshots.keys.filter { $0 <= length && $0 != 0 }).sorted()
    }

    /// Forgets the tokens after `length`, restoring the recurrent state kept there. Throws unless `length` is the
    /// current length, 0, or a snapshot point not beyond the current length.
    public func truncate(to length: Int) throws(EngineError) {
        guard length >= 0, length <= self.length else {
            throw .invalidInput("truncate: expected a length in 0...\(self.length), found \(length)")
        }
        if length == self.length { return }
        if length == 0 {
            recurrent = empty
        } else if let kept = snapshots[length] {
            recurrent = kept
        } else {
            throw .invalidInput("truncate: a recurrent state can only go back to a snapshot point (expected one of "
                                + "\(snapshotLengths.map(String.init).joined(separator: ", ")), found \(length))")
        }
        try attention.truncate(to: length)
        snapshots = snapshots.filter { $0.key <= length }
    }
}
