import Tokenizers

/// Full blocks of prompts already computed, for requests that start with the same tokens (DESIGN.md §6, "a prefix
/// cache keyed by token prefix"). A block is keyed by its own tokens and the block before it (a chain from the
/// first token), so a hit means every token before it matched too. Bounded by bytes; the least recently used
/// block goes first. Blocks still used by running sequences stay alive through them; the cache only forgets them.
///
/// States with hidden state (`needsSnapshots`) compute different bits for the same tokens when their prefill chunks
/// split differently, and a request's chunks also split where its stable prefix ends. So such a block is keyed by
/// that split too, when it lies before the block's end (`Key.split`), and a request resumes at a snapshot only
/// where its own uncached run ends a chunk: a multiple of the resume interval, or its own stable prefix's end.
///
/// Not thread-safe: the scheduler's thread owns it.
final class PrefixCache {
    private struct Key: Hashable {
        /// The previous block's entry id; 0 for the first block.
        let parent: UInt64
        let tokens: [TokenID]
        /// For states with hidden state: the stable prefix's end of the request that computed the block, when it
        /// lies before the block's end (its forward calls split there, which the block's bits depend on); else 0.
        let split: Int

        init(parent: UInt64, tokens: [TokenID], split: Int = 0) {
            self.parent = parent
            self.tokens = tokens
            self.split = split
        }
    }

    private final class Entry {
        let id: UInt64
        var block: any SharedPrefixBlock
        var lastUse: UInt64
        init(id: UInt64, block: any SharedPrefixBlock, lastUse: UInt64) {
            self.id = id
            self.block = block
            self.lastUse = lastUse
        }
    }

    /// Bytes of blocks the cache may hold.
    let byteLimit: Int
    private var entries: [Key: Entry] = [:]
    /// Keys of the blocks that follow each entry (by parent id), for matching part of a block.
    private var children: [UInt64: Set<Key>] = [:]
    private(set) var bytes = 0
    /// Tokens per block of the blocks inserted so far (one model per cache, so one size); nil while empty.
    private(set) var blockSize: Int?
    /// Whether the blocks inserted so far carry snapshots of hidden state (one model per cache).
    private var needsSnapshots = false
    private var clock: UInt64 = 0
    private var nextID: UInt64 = 1

    init(byteLimit: Int) { self.byteLimit = byteLimit }

    /// Blocks held.
    var count: Int { entries.count }

    /// A cached prefix: its blocks and how many of their tokens match (the last block may match only in part).
    struct Match {
        var blocks: [any SharedPrefixBlock] = []
        var tokens = 0
    }

    /// Where a request resumes: for states with hidden state, the end of its stable prefix (0: none; it keys the
    /// blocks after it, see `Key.split`) and the interval of the points where every request's prefill chunks end.
    struct ResumePoints {
        var stablePrefix = 0
        var interval = 1

        /// Whether a request can resume at `end` of `block`: inside a block that allows it, or on a snapshot where
        /// its own uncached run ends a prefill chunk too.
        func allow(_ block: any SharedPrefixBlock, at end: Int) -> Bool {
            block.canResumeInside || (block.isResumePoint && (end % interval == 0 || end == stablePrefix))
        }

        /// `Key.split` of a block ending at `end` that this request computes.
        func split(before end: Int) -> Int { stablePrefix > 0 && stablePrefix < end ? stablePrefix : 0 }
    }

    /// The longest cached prefix of `tokens`, at most `maxTokens` long, that ends where a sequence can resume
    /// (`ResumePoints.allow`): whole blocks, then the longest partial match inside one more block when blocks allow
    /// resuming inside them, or a whole tail block (`PrefixSharingState.tailBlock(endingAt:)`); failing those, the
    /// deepest whole block that is a resume point or has a matching tail after it.
    func lookup(_ tokens: [TokenID], blockSize: Int, maxTokens: Int, resume: ResumePoints = .init()) -> Match {
        clock += 1
        let limit = max(0, min(maxTokens, tokens.count))
        let found = path(tokens, blockSize: blockSize, whole: limit / blockSize, resume: resume)
        var depth = found.count
        var next = child(after: found.last, tokens: tokens, start: depth * blockSize, limit: limit,
                         blockSize: blockSize, inside: true, resume: resume)
        while next == nil, depth > 0, !resume.allow(found[depth - 1].block, at: depth * blockSize) {
            depth -= 1
            next = child(after: depth > 0 ? found[depth - 1] : nil, tokens: tokens, start: depth * blockSize,
                         limit: limit, blockSize: blockSize, inside: false, resume: resume)
        }
        var used = Array(found.prefix(depth))
        var match = Match(blocks: used.map(\.block), tokens: depth * blockSize)
        if let (entry, common) = next {
            used.append(entry)
            match.blocks.append(entry.block)
            match.tokens += common
        }
        for entry in used { entry.lastUse = clock }
        return match
    }

    /// The cached entries of the first `whole` blocks of `tokens`, as far as they are cached in a row.
    private func path(_ tokens: [TokenID], blockSize: Int, whole: Int, resume: ResumePoints) -> [Entry] {
        var found: [Entry] = []
        var parent: UInt64 = 0
        for index in 0..<max(0, whole) {
            let end = (index + 1) * blockSize
            let key = self.key(tokens, (end - blockSize)..<end, after: parent, resume)
            guard let entry = entries[key] else { break }
            found.append(entry)
            parent = entry.id
        }
        return found
    }

    /// The block after `parent` (nil: the first block) sharing the most leading tokens with `tokens[start...]`
    /// (not beyond `limit`) where a sequence can resume: inside it (when `inside` and the block allows it) or at
    /// the end of a tail block matched whole.
    private func child(after parent: Entry?, tokens: [TokenID], start: Int, limit: Int, blockSize: Int,
                       inside: Bool, resume: ResumePoints) -> (Entry, Int)? {
        guard start < limit, let keys = children[parent?.id ?? 0] else { return nil }
        var best: (Entry, Int)?
        for key in keys {
            guard let entry = entries[key], key.split == resume.split(before: start + key.tokens.count) else {
                continue
            }
            var common = 0
            while common < key.tokens.count, start + common < limit, key.tokens[common] == tokens[start + common] {
                common += 1
            }
            let resumable = (inside && entry.block.canResumeInside)
                || (key.tokens.count < blockSize && common == key.tokens.count
                    && resume.allow(entry.block, at: start + common))
            if resumable, common > (best?.1 ?? 0) { best = (entry, common) }
        }
        return best
    }

    /// Adds the full blocks `0..<blocks` of `state`, whose first tokens are `tokens`, and then, when `tail` > 0, the
    /// state's tail block of the next `tail` tokens (`PrefixSharingState.tailBlock(endingAt:)`); blocks already
    /// cached are only marked used (or replaced by the state's block when only the state's is a resume point: a
    /// recurrent state's snapshot makes the same tokens resumable). `stablePrefix`: where the request's stable prefix
    /// ends, for states with hidden state (`Key.split`).
    func insert(_ tokens: [TokenID], state: any PrefixSharingState, blocks: Int, tail: Int = 0, stablePrefix: Int = 0) {
        guard byteLimit > 0 else { return }
        clock += 1
        let size = state.blockSize
        blockSize = size
        needsSnapshots = state.needsSnapshots
        let resume = ResumePoints(stablePrefix: state.needsSnapshots ? stablePrefix : 0)
        var parent: UInt64 = 0
        let whole = max(0, min(blocks, tokens.count / size))
        for index in 0..<whole {
            let end = (index + 1) * size
            let key = self.key(tokens, (end - size)..<end, after: parent, resume)
            if let entry = entries[key] {
                entry.lastUse = clock
                parent = entry.id
                if !entry.block.isResumePoint, let block = state.sharedBlock(index), block.isResumePoint {
                    bytes += block.byteCount - entry.block.byteCount
                    entry.block = block
                }
                continue
            }
            guard let block = state.sharedBlock(index) else {
                evict()
                return
            }
            parent = add(key, block: block)
        }
        let end = whole * size + tail
        if whole == blocks, tail > 0, tail < size, end <= tokens.count {
            let key = self.key(tokens, (whole * size)..<end, after: parent, resume)
            if let entry = entries[key] {
                entry.lastUse = clock
            } else if let block = state.tailBlock(endingAt: end) {
                _ = add(key, block: block)
            }
        }
        evict()
    }

    /// The key of `tokens[range]` after the entry `parent` (0: none, the first block), as `resume`'s request
    /// computes it.
    private func key(_ tokens: [TokenID], _ range: Range<Int>, after parent: UInt64, _ resume: ResumePoints) -> Key {
        Key(parent: parent, tokens: Array(tokens[range]), split: resume.split(before: range.upperBound))
    }

    /// Holds `block` under `key`, as just used; returns its entry id.
    private func add(_ key: Key, block: any SharedPrefixBlock) -> UInt64 {
        let entry = Entry(id: nextID, block: block, lastUse: clock)
        nextID += 1
        entries[key] = entry
        children[key.parent, default: []].insert(key)
        bytes += block.byteCount
        return entry.id
    }

    /// Marks the cached whole blocks of `tokens` as just used, and the tail block ending at its stable prefix's end
    /// (the only place a tail is resumed), so that an eviction spares them (a request about to adopt them was just
    /// admitted; `stablePrefix` as for `insert`).
    func touch(_ tokens: [TokenID], stablePrefix: Int = 0) {
        guard let blockSize else { return }
        clock += 1
        let resume = ResumePoints(stablePrefix: needsSnapshots ? stablePrefix : 0)
        let found = path(tokens, blockSize: blockSize, whole: (tokens.count - 1) / blockSize, resume: resume)
        for entry in found { entry.lastUse = clock }
        let depth = resume.stablePrefix / blockSize, end = resume.stablePrefix
        guard end % blockSize != 0, end < tokens.count, depth <= found.count else { return }
        entries[key(tokens, (depth * blockSize)..<end, after: depth > 0 ? found[depth - 1].id : 0, resume)]?
            .lastUse = clock
    }

    /// Drops least recently used blocks until the bytes fit `limit` as well as the cache's own limit: the
    /// scheduler's memory admission makes the cache give way to sequences this way.
    func shrink(toFit limit: Int) {
        evict(to: min(byteLimit, max(0, limit)))
    }

    /// Drops least recently used blocks until the bytes fit `limit`.
    private func evict(to limit: Int? = nil) {
        let byteLimit = limit ?? self.byteLimit
        guard bytes > byteLimit else { return }
        let order = entries.sorted { $0.value.lastUse < $1.value.lastUse || ($0.value.lastUse == $1.value.lastUse && $0.value.id > $1.value.id) }
        for (key, entry) in order {
            guard bytes > byteLimit else { break }
            entries[key] = nil
            children[key.parent]?.remove(key)
            if children[key.parent]?.isEmpty == true { children[key.parent] = nil }
            bytes -= entry.block.byteCount
        }
    }
}
