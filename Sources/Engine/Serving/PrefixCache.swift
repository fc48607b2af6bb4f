import Tokenizers

/// Full blocks of prompts already computed, for requests that start with the same tokens (DESIGN.md §6, "a prefix
/// cache keyed by token prefix"). A block is keyed by its own tokens and the block before it (a chain from the
/// first token), so a hit means every token before it matched too. Bounded by bytes; the least recently used
/// block goes first. Blocks still used by running sequences stay alive through them; the cache only forgets them.
///
/// Not thread-safe: the scheduler's thread owns it.
final class PrefixCache {
    private struct Key: Hashable {
        /// The previous block's entry id; 0 for the first block.
        let parent: UInt64
        let tokens: [TokenID]
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

    /// The longest cached prefix of `tokens`, at most `maxTokens` long, that ends where a sequence can resume:
    /// whole blocks, then the longest partial match inside one more block when blocks allow resuming inside them,
    /// or a whole tail block (`PrefixSharingState.tailBlock(endingAt:)`); failing those, the deepest whole block
    /// that is a resume point or has a matching tail after it.
    func lookup(_ tokens: [TokenID], blockSize: Int, maxTokens: Int) -> Match {
        clock += 1
        let limit = max(0, min(maxTokens, tokens.count))
        var found: [Entry] = []
        var parent: UInt64 = 0
        for index in 0..<(limit / blockSize) {
            let key = Key(parent: parent, tokens: Array(tokens[(index * blockSize)..<((index + 1) * blockSize)]))
            guard let entry = entries[key] else { break }
            found.append(entry)
            parent = entry.id
        }
        var depth = found.count
        var next = child(after: found.last, tokens: tokens, start: depth * blockSize, limit: limit,
                         blockSize: blockSize, inside: true)
        while next == nil, depth > 0, !found[depth - 1].block.isResumePoint {
            depth -= 1
            next = child(after: depth > 0 ? found[depth - 1] : nil, tokens: tokens, start: depth * blockSize,
                         limit: limit, blockSize: blockSize, inside: false)
        }
        found.removeLast(found.count - depth)
        var match = Match(blocks: found.map(\.block), tokens: depth * blockSize)
        if let (entry, common) = next {
            found.append(entry)
            match.blocks.append(entry.block)
            match.tokens += common
        }
        for entry in found { entry.lastUse = clock }
        return match
    }

    /// The block after `parent` (nil: the first block) sharing the most leading tokens with `tokens[start...]`
    /// (not beyond `limit`) where a sequence can resume: inside it (when `inside` and the block allows it) or at
    /// the end of a tail block matched whole.
    private func child(after parent: Entry?, tokens: [TokenID], start: Int, limit: Int, blockSize: Int,
                       inside: Bool) -> (Entry, Int)? {
        guard start < limit, let keys = children[parent?.id ?? 0] else { return nil }
        var best: (Entry, Int)?
        for key in keys {
            guard let entry = entries[key] else { continue }
            var common = 0
            while common < key.tokens.count, start + common < limit, key.tokens[common] == tokens[start + common] {
                common += 1
            }
            let resumable = (inside && entry.block.canResumeInside)
                || (entry.block.isResumePoint && key.tokens.count < blockSize && common == key.tokens.count)
            if resumable, common > (best?.1 ?? 0) { best = (entry, common) }
        }
        return best
    }

    /// Adds the full blocks `0..<blocks` of `state`, whose first tokens are `tokens`, and then, when `tail` > 0, the
    /// state's tail block of the next `tail` tokens (`PrefixSharingState.tailBlock(endingAt:)`); blocks already
    /// cached are only marked used (or replaced by the state's block when only the state's is a resume point: a
    /// recurrent state's snapshot makes the same tokens resumable).
    func insert(_ tokens: [TokenID], state: any PrefixSharingState, blocks: Int, tail: Int = 0) {
        guard byteLimit > 0 else { return }
        clock += 1
        let size = state.blockSize
        blockSize = size
        var parent: UInt64 = 0
        let whole = max(0, min(blocks, tokens.count / size))
        for index in 0..<whole {
            let key = Key(parent: parent, tokens: Array(tokens[(index * size)..<((index + 1) * size)]))
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
            let key = Key(parent: parent, tokens: Array(tokens[(whole * size)..<end]))
            if let entry = entries[key] {
                entry.lastUse = clock
            } else if let block = state.tailBlock(endingAt: end) {
                _ = add(key, block: block)
            }
        }
        evict()
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

    /// Marks the cached prefix of `tokens` as just used, so that an eviction spares it (a request about to adopt it
    /// was just admitted).
    func touch(_ tokens: [TokenID]) {
        guard let blockSize else { return }
        _ = lookup(tokens, blockSize: blockSize, maxTokens: tokens.count - 1)
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
