/// A sequence state whose first tokens can be shared with other sequences of the same model: the prefix cache
/// (`PrefixCache`) keeps its full blocks and hands them to later sequences whose prompts start with the same
/// tokens, which then compute only the rest.
///
/// Contract for conformers:
/// - A block covers tokens `index·blockSize ..< (index+1)·blockSize` and holds exactly the bytes the model computed
///   for them; once returned by `sharedBlock`, it is never written again by anyone (copy on write): that is what
///   keeps batch invariance with the cache on — an adopted prefix is bit-identical to a computed one.
/// - Blocks from a state of one model are adopted only by fresh states of the same model (`adopt` checks shapes).
/// - States with hidden state beside their pages (recurrent linear-attention layers, qwen3next) opt in by storing a
///   snapshot of that state in the blocks where they took one (at prefill chunk boundaries) and saying so with
///   `isResumePoint`; the cache then adopts only prefixes ending on such a block. They say `needsSnapshots`, and
///   the scheduler calls `takeSnapshot()` where its prefill chunks end on a block end: resuming there, a sequence
///   runs exactly the forward calls an uncached run makes from that point, so it computes the same bits.
/// - Such states may also offer a *tail block* (`tailBlock(endingAt:)`): the tokens from the last block end to a
///   snapshot taken inside the next block (where a prompt's stable prefix ends), with a copy of the page so far.
///   A tail is a resume point at its own end only.
public protocol PrefixSharingState: SequenceState {
    /// Tokens per block; prefixes are shared in whole blocks.
    var blockSize: Int { get }
    /// Whether a prefix can be resumed only where `takeSnapshot()` was called (recurrent state); false for states
    /// that are their pages alone (the default).
    var needsSnapshots: Bool { get }
    /// Keeps the hidden state at the current length, so that the block ending here becomes a resume point. Called
    /// only at prefill chunk boundaries that are block ends. Default: nothing (pages need no snapshot).
    func takeSnapshot()
    /// Forgets the kept snapshots; blocks already handed out keep theirs (the prefix cache counts those bytes).
    /// Default: nothing.
    func discardSnapshots()
    /// Block `index`, or nil when the state does not hold all of its tokens yet.
    func sharedBlock(_ index: Int) -> (any SharedPrefixBlock)?
    /// The tokens from the block end before `length` to `length` (not a block end, the state's current length,
    /// where `takeSnapshot()` was just called) as one immutable block that is a resume point at its end; nil when
    /// the state cannot offer one (the default: states that are their pages alone resume inside any block).
    func tailBlock(endingAt length: Int) -> (any SharedPrefixBlock)?
    /// Makes the first `length` tokens of `blocks` (made by states of the same model, in order) the first tokens of
    /// this empty state; `length` is in `(blocks.count − 1)·blockSize + 1 ... blocks.count·blockSize` (the last
    /// block may be used in part when it `canResumeInside`, or up to its end when it is a tail block: the state then
    /// copies it before writing into it).
    /// Throws when the state is not empty or a block does not fit.
    func adopt(_ blocks: [any SharedPrefixBlock], length: Int) throws(EngineError)
}

extension PrefixSharingState {
    public var needsSnapshots: Bool { false }
    public func takeSnapshot() {}
    public func discardSnapshots() {}
    public func tailBlock(endingAt length: Int) -> (any SharedPrefixBlock)? { nil }
}

/// One immutable block of a shared prefix.
public protocol SharedPrefixBlock: AnyObject, Sendable {
    /// Memory it holds (for the cache's bound).
    var byteCount: Int { get }
    /// Whether a sequence can continue from the end of this block (always for KV pages; for recurrent states,
    /// only where the block carries a state snapshot).
    var isResumePoint: Bool { get }
    /// Whether a sequence can continue from inside this block (KV pages: yes; recurrent state: no, it has no
    /// snapshot there).
    var canResumeInside: Bool { get }
    /// Tokens it covers: the block size, or fewer for a tail block (`PrefixSharingState.tailBlock(endingAt:)`).
    var tokenCount: Int { get }
}
