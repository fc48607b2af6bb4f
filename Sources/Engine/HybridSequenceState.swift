internal import Kernels

/// One sequence's state in a hybrid model (qwen3next): the KV cache of the attention layers beside the recurrent
/// state of the linear-attention (Gated DeltaNet) layers, which is a fixed size whatever the length.
///
/// A recurrent state cannot be rewound, so `truncate(to:)` only goes back to a length where a snapshot was kept
/// (`takeSnapshot()`, meant for chunk boundaries, DESIGN.md §6) or to 0. Taking a snapshot is cheap: Swift arrays
/// are copy-on-write, so it shares the buffers until the next token writes them.
///
/// Prefix sharing (`PrefixSharingState`): a block is one KV page (`KVCacheState.defaultPageSize`, 32 tokens) plus,
/// when a snapshot was taken exactly at the page's end, that snapshot (conv and delta-rule state of every linear
/// layer). Only such blocks are resume points. The scheduler takes snapshots where its prefill chunks end on a page
/// end (its `prefillChunk`, 256 by default, is a multiple of the page): a sequence that adopts a prefix ending
/// there runs from it exactly the forward calls an uncached run makes (calls end at absolute multiples of the
/// chunk), so its bits are the same. The chunked delta rule's 64-token chunks divide 256, so those calls also split
/// into the same delta-rule chunks as one long call would. A snapshot costs `snapshotBytes` (≈ 75 MB for
/// Qwen3-Coder-Next's 36 linear layers), so there is one per prefill chunk of a prompt, not one per page.
/// Where a prompt's stable prefix ends inside a page, the scheduler also ends a prefill chunk there and takes a
/// snapshot: the tail block (`tailBlock(endingAt:)`, a copy of that page so far with the snapshot) lets the next
/// request with the same prefix resume at its exact end.
public final class HybridSequenceState: PrefixSharingState, @unchecked Sendable {
    // Mutated only inside the model's forward call, which the serving layer never runs concurrently for one
    // state (a state belongs to one request at a time; LanguageModel's contract).

    /// The recurrent part of one linear-attention layer.
    struct Recurrent: Sendable {
        /// The last `kernel − 1` inputs of the causal conv, oldest first: `// (kernel − 1, convChannels)`.
        var conv: [Float]
        /// The delta-rule state of every value head: `// (valueHeads, keyDim, valueDim)`, on a cache line (as a Swift
        /// array it started 48 bytes past one, and a throwaway loop of `sparrow_delta_rule_step` over 6 layers × 32
        /// heads took 1.41-1.49 ms per token against 1.26-1.33 aligned, 2026-11-30).
        var delta: CacheLineArray
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

    init(attentionLayers: Int, kvWidth: Int, kvHeads: Int, linearLayers: Int, convFloats: Int, deltaFloats: Int,
         capacity: Int) throws(EngineError)
    {
        attention = try KVCacheState(layers: attentionLayers, width: kvWidth, kvHeads: kvHeads, capacity: capacity)
        let zero = Recurrent(conv: [Float](repeating: 0, count: convFloats),
                             delta: CacheLineArray(repeating: 0, count: deltaFloats))
        recurrent = [Recurrent](repeating: zero, count: linearLayers)
        empty = recurrent
    }

    /// Bytes of one snapshot of the recurrent state (every linear layer's conv and delta-rule state).
    public var snapshotBytes: Int {
        empty.reduce(0) { $0 + ($1.conv.count + $1.delta.count) * MemoryLayout<Float>.size }
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

    // MARK: PrefixSharingState

    public var blockSize: Int { attention.pageSize }

    /// True when the model has linear-attention layers (their state is not in the pages).
    public var needsSnapshots: Bool { !empty.isEmpty }

    public func sharedBlock(_ index: Int) -> (any SharedPrefixBlock)? {
        guard let page = attention.page(index) else { return nil }
        let snapshot = snapshots[(index + 1) * blockSize]
        return HybridBlock(page: page, tokenCount: blockSize, snapshot: snapshot,
                           isResumePoint: snapshot != nil || !needsSnapshots)
    }

    /// The tokens after the last page end up to `length` — the current length, inside a page, where a snapshot was
    /// taken — as a tail block: a copy of the page so far and the snapshot. Nil anywhere else.
    public func tailBlock(endingAt length: Int) -> (any SharedPrefixBlock)? {
        guard length == self.length, length % blockSize != 0, let snapshot = snapshots[length],
              let page = attention.copyOfPartialPage()
        else { return nil }
        return HybridBlock(page: page, tokenCount: length % blockSize, snapshot: snapshot, isResumePoint: true)
    }

    /// Installs the blocks' KV pages and the last block's recurrent snapshot; `length` must be the end of the last
    /// block (a whole one, or a tail block), which must be a resume point. Every snapshot the blocks carry becomes a
    /// point `truncate(to:)` accepts.
    public func adopt(_ blocks: [any SharedPrefixBlock], length adopted: Int) throws(EngineError) {
        guard length == 0 else {
            throw .invalidInput("prefix cache: expected an empty state to adopt a prefix, found \(length) tokens")
        }
        var hybrid: [HybridBlock] = []
        for (index, block) in blocks.enumerated() {
            guard let block = block as? HybridBlock,
                  block.snapshot.map({ fits($0) }) ?? true
            else {
                throw .invalidInput("prefix cache: block \(index) was not made by a hybrid state of this model")
            }
            guard block.tokenCount == blockSize || index == blocks.count - 1 else {
                throw .invalidInput("prefix cache: block \(index) is a tail block of \(block.tokenCount) tokens; "
                                    + "expected one only last")
            }
            hybrid.append(block)
        }
        guard let last = hybrid.last, last.isResumePoint,
              adopted == (hybrid.count - 1) * blockSize + last.tokenCount
        else {
            throw .invalidInput("prefix cache: expected \(adopted) tokens to end exactly at the end of the last of "
                                + "\(blocks.count) blocks of \(blockSize) (the last possibly a shorter tail block), "
                                + "on a recurrent-state snapshot")
        }
        try attention.adopt(hybrid.map(\.page), length: adopted)
        recurrent = last.snapshot ?? empty
        snapshots = [:]
        for (index, block) in hybrid.enumerated() {
            if let snapshot = block.snapshot { snapshots[index * blockSize + block.tokenCount] = snapshot }
        }
    }

    /// Whether `snapshot` has this state's shape (layer count, conv and delta sizes).
    private func fits(_ snapshot: [Recurrent]) -> Bool {
        snapshot.count == empty.count
            && zip(snapshot, empty).allSatisfy { $0.conv.count == $1.conv.count && $0.delta.count == $1.delta.count }
    }
}

/// One block of a hybrid state's prompt: a KV page and, where the state took one at the block's end, the snapshot
/// of its recurrent state. A tail block covers only the first `tokenCount` positions of its page (a copy). Immutable
/// (the snapshot's arrays are values; the page is never written once full, and a tail's copy never).
final class HybridBlock: SharedPrefixBlock, @unchecked Sendable {
    // Immutable after init; KVPage is written only by its owning state while not full.
    let page: KVPage
    let tokenCount: Int
    let snapshot: [HybridSequenceState.Recurrent]?
    let isResumePoint: Bool

    init(page: KVPage, tokenCount: Int, snapshot: [HybridSequenceState.Recurrent]?, isResumePoint: Bool) {
        self.page = page
        self.tokenCount = tokenCount
        self.snapshot = snapshot
        self.isResumePoint = isResumePoint
    }

    var byteCount: Int {
        page.byteCount + (snapshot ?? []).reduce(0) { $0 + ($1.conv.count + $1.delta.count) * MemoryLayout<Float>.size }
    }

    /// The recurrent state exists only at the block's end.
    var canResumeInside: Bool { false }
}
