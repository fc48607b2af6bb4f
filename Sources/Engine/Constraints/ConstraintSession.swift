public import Tokenizers

/// Follows one constrained answer token by token: which tokens may come next, and the answer so far.
///
/// How a sampler drives it, once per decoding step:
/// ```
/// let session = try ConstraintSession(program: program, trie: trie, maxTokens: request.maxTokens)
/// while !session.mustEnd {
///     let mask = session.allowedTokens()          // no allocation once the state has been seen
///     mask.apply(to: logits)                      // disallowed logits → −∞, then temperature/top-k/top-p as usual
///     let token = sample(logits)
///     if session.trie.endOfGeneration.contains(token) { break }   // finish reason: .endOfText
///     try session.advance(token)
/// }
/// ```
/// The budget: at most `maxTokens` answer tokens; the end-of-generation token is not counted (the sampler may also
/// stop without sampling it once `mustEnd`). A token is allowed only if the fewest bytes still needed to close
/// the answer fit in the tokens left after it, so an answer can never be cut off by `maxTokens`.
///
/// Not thread-safe: one session per request. The `TokenMask` returned by `allowedTokens()` belongs to the session
/// and is valid until its next call.
public final class ConstraintSession {
    public let program: ConstraintProgram
    public let trie: TokenTrie
    /// Answer tokens allowed in all.
    public private(set) var maxTokens: Int
    /// Answer tokens accepted so far.
    public private(set) var generatedTokens = 0

    private var matcher: ByteMatcher
    private var state: MatcherState
    /// Arena entries of the accepted answer; the rest are scratch of the last mask computation.
    private var committed = 0
    private var levels: [MatcherState]
    private var levelMarks: [Int]
    private let cache: MaskCache
    private let scratch: TokenMask
    private let endOnly: TokenMask
    private let endSet: Set<TokenID>
    /// Use the plain-string shortcut (tests turn it off to compare against the full trie walk).
    var usesPlainStringShortcut = true
    /// Use the mask cache (tests turn it off to check that cached masks equal fresh ones).
    var usesCache = true

    /// Starts an answer. Throws when even the shortest valid answer does not fit in `maxTokens` tokens.
    public init(program: ConstraintProgram, trie: TokenTrie, maxTokens: Int, cacheCapacity: Int = 256) throws(SchemaConstraintError) {
        self.program = program
        self.trie = trie
        self.maxTokens = maxTokens
        matcher = ByteMatcher(program: program)
        state = matcher.initialState
        levels = [MatcherState](repeating: state, count: trie.maximumTokenLength + 1)
        levelMarks = [Int](repeating: 0, count: trie.maximumTokenLength + 1)
        cache = MaskCache(capacity: cacheCapacity)
        scratch = TokenMask(vocabularySize: trie.vocabularySize)
        endOnly = TokenMask(vocabularySize: trie.vocabularySize)
        for token in trie.endOfGeneration { endOnly.insert(token) }
        endSet = Set(trie.endOfGeneration)
        try reset(maxTokens: maxTokens)
    }

    /// Starts a new answer with the same schema, keeping the mask cache.
    public func reset(maxTokens: Int) throws(SchemaConstraintError) {
        matcher.arena.removeAll(keepingCapacity: true)
        committed = 0
        state = matcher.initialState
        generatedTokens = 0
        self.maxTokens = maxTokens
        let needed = matcher.cost(state)
        guard needed <= maxTokens else { throw .budgetTooSmall(needed: needed, maxTokens: maxTokens) }
    }

    /// Sets how many more answer tokens may come (the engine's scheduler tells this before each step). Closing is
    /// guaranteed when the budget given is at least `bytesToClose`.
    public func limitRemainingTokens(to remaining: Int) {
        maxTokens = generatedTokens + max(0, remaining)
    }

    /// Answer tokens still allowed.
    public var remainingTokens: Int { maxTokens - generatedTokens }
    /// Fewest bytes that close the answer from here (an upper bound on the tokens it takes).
    public var bytesToClose: Int { matcher.cost(state) }
    /// The answer so far is complete (end-of-generation is allowed).
    public var canEnd: Bool { matcher.isAccepting(state) }
    /// The answer is complete and nothing may follow: only end-of-generation is allowed.
    public var mustEnd: Bool {
        if case .done = state.top { return true }
        return remainingTokens <= 0 && canEnd
    }

    /// How `allowedTokens()` answered so far (for benchmarks and tuning; kept across `reset`).
    public struct MaskStatistics: Sendable, Hashable {
        /// Calls of `allowedTokens()`.
        public var calls = 0
        /// Served from the mask cache.
        public var cached = 0
        /// Computed and cached (first visit of a state; also counted as budget-limited when the budget then needed
        /// a second, narrower walk).
        public var computed = 0
        /// Computed for the budget alone (the cached mask allowed a token that would leave too little room).
        public var budgetLimited = 0
        /// Computed for a state that is not cached (inside a substring-constrained string).
        public var uncached = 0
        /// Answered without a walk (complete answer or no budget left).
        public var trivial = 0

        public init() {}
    }

    /// How `allowedTokens()` answered so far.
    public private(set) var statistics = MaskStatistics()

    /// Accepts the sampled token; throws when the mask did not allow it (the state is then unchanged).
    public func advance(_ token: TokenID) throws(SchemaConstraintError) {
        let position = generatedTokens
        if endSet.contains(token) {
            guard canEnd else { throw .tokenNotAllowed(token: token, position: position) }
            state = MatcherState(top: .done, parent: -1)
            return
        }
        guard token >= 0, Int(token) < trie.vocabularySize, remainingTokens > 0 else {
            throw .tokenNotAllowed(token: token, position: position)
        }
        matcher.arena.removeLast(matcher.arena.count - committed)
        var next = state
        let start = Int(trie.tokenStart[Int(token)])
        let end = Int(trie.tokenStart[Int(token) + 1])
        var accepted = start < end
        for index in start..<end where accepted {
            accepted = matcher.step(&next, trie.tokenBytes[index])
        }
        guard accepted, matcher.cost(next) <= remainingTokens - 1 else {
            matcher.arena.removeLast(matcher.arena.count - committed)
            throw .tokenNotAllowed(token: token, position: position)
        }
        state = next
        committed = matcher.arena.count
        generatedTokens += 1
    }

    /// Whether `token` may come next (without computing the whole mask).
    public func allows(_ token: TokenID) -> Bool {
        if endSet.contains(token) { return canEnd }
        guard token >= 0, Int(token) < trie.vocabularySize, remainingTokens > 0 else { return false }
        matcher.arena.removeLast(matcher.arena.count - committed)
        defer { matcher.arena.removeLast(matcher.arena.count - committed) }
        var next = state
        let start = Int(trie.tokenStart[Int(token)])
        let end = Int(trie.tokenStart[Int(token) + 1])
        guard start < end else { return false }
        for index in start..<end where !matcher.step(&next, trie.tokenBytes[index]) { return false }
        return matcher.cost(next) <= remainingTokens - 1
    }

    /// The tokens that may come next.
    public func allowedTokens() -> TokenMask {
        let remaining = remainingTokens
        statistics.calls += 1
        if case .done = state.top {
            statistics.trivial += 1
            return endOnly
        }
        if remaining <= 0 {
            statistics.trivial += 1
            return endOnly
        }
        guard isCacheable, usesCache else {
            statistics.uncached += 1
            computeMask(into: scratch, budget: remaining - 1)
            if scratch.count == 0 { computeMask(into: scratch, budget: nil) }
            return scratch
        }
        let depth = stackDepth
        let hash = stateHash(depth: depth)
        if let entry = cache.lookup(hash: hash, depth: depth, frame: canonicalFrame) {
            if entry.maximumCostAfter <= remaining - 1 {
                statistics.cached += 1
                return entry.mask
            }
        } else {
            statistics.computed += 1
            let mask = TokenMask(vocabularySize: trie.vocabularySize)
            let maximum = computeMask(into: mask, budget: nil)
            var frames: [Frame] = []
            for index in 0..<depth { frames.append(canonicalFrame(index)) }
            cache.insert(hash: hash, MaskCache.Entry(frames: frames, mask: mask, maximumCostAfter: maximum))
            if maximum <= remaining - 1 { return mask }
        }
        statistics.budgetLimited += 1
        computeMask(into: scratch, budget: remaining - 1)
        // Only when the budget was already below `bytesToClose` (the engine hook cannot refuse a request up front):
        // nothing keeps closing guaranteed, so fall back to every valid token rather than stall.
        if scratch.count == 0 { computeMask(into: scratch, budget: nil) }
        return scratch
    }

    // MARK: Mask computation

    /// Computes the allowed tokens from the current state; returns the largest closing cost after an allowed token.
    /// `budget`: the most closing bytes a token may leave (nil: no limit).
    @discardableResult
    private func computeMask(into mask: TokenMask, budget: Int?) -> Int {
        mask.removeAll()
        matcher.arena.removeLast(matcher.arena.count - committed)
        let limit = budget ?? Int.max
        var maximum = 0
        if usesPlainStringShortcut, case let .string(frame) = state.top, frame.phase == .content, frame.pending == 0 {
            let node = program.strings[Int(frame.node)]
            if node.pattern < 0, node.substring < 0 {
                // Plain string content: plain-content tokens are allowed by scalar count alone; walk the rest.
                let count = Int(frame.count)
                let parentCost = state.parent >= 0 ? matcher.arena[Int(state.parent)].closingCost : 0
                let largest = trie.plainContentUpTo.count - 1
                let upper = node.maxLength == Int.max ? largest : min(largest, node.maxLength - count)
                var lower = 1
                if limit != Int.max {
                    lower = 1 + parentCost > limit ? Int.max : max(1, node.minLength - count - (limit - 1 - parentCost))
                }
                if lower <= upper {
                    mask.assign(trie.plainContentUpTo[upper], minus: trie.plainContentUpTo[lower - 1])
                    maximum = max(0, node.minLength - count - lower) + 1 + parentCost
                }
                return max(maximum, walk(trie.stringSpecial, into: mask, limit: limit))
            }
        }
        if canEnd { for token in trie.endOfGeneration { mask.insert(token) } }
        return walk(trie.all, into: mask, limit: limit)
    }

    /// Adds the tokens of `tokens` whose bytes the matcher accepts from the current state and that leave at most
    /// `limit` closing bytes; returns the largest closing cost among them.
    ///
    /// The hot loop works on local copies moved out of the session (matcher, level stacks, mask words), so it runs
    /// without dynamic exclusivity checks or copy-on-write.
    private func walk(_ tokens: ByteTrie, into mask: TokenMask, limit: Int) -> Int {
        var matcher = self.matcher
        self.matcher.arena = []
        var levels = self.levels
        self.levels = []
        var levelMarks = self.levelMarks
        self.levelMarks = []
        defer {
            matcher.arena.removeLast(matcher.arena.count - committed)
            self.matcher = matcher
            self.levels = levels
            self.levelMarks = levelMarks
        }
        levels[0] = state
        levelMarks[0] = committed
        let depthLimit = levels.count
        return mask.withMutableWords { words in
            var maximum = 0
            var node = 1
            let nodeCount = tokens.nodeCount
            while node < nodeCount {
                let depth = Int(tokens.nodeDepth[node])
                let mark = levelMarks[depth - 1]
                if matcher.arena.count > mark { matcher.arena.removeLast(matcher.arena.count - mark) }
                var next = levels[depth - 1]
                guard matcher.step(&next, tokens.nodeByte[node]) else {
                    node = Int(tokens.subtreeEnd[node])
                    continue
                }
                let first = Int(tokens.terminalStart[node])
                let last = Int(tokens.terminalStart[node + 1])
                if first < last {
                    let cost = matcher.cost(next)
                    if cost <= limit {
                        maximum = max(maximum, cost)
                        for index in first..<last {
                            let token = Int(tokens.terminalIDs[index])
                            words[token >> 6] |= 1 << UInt64(token & 63)
                        }
                    }
                }
                if depth < depthLimit {
                    levels[depth] = next
                    levelMarks[depth] = matcher.arena.count
                }
                node += 1
            }
            return maximum
        }
    }

    // MARK: Cache keys

    /// Strings tied to a substring text have too many states to cache (and are cheap to walk: the text prunes).
    private var isCacheable: Bool {
        if case let .string(frame) = state.top, program.strings[Int(frame.node)].substring >= 0 { return false }
        return true
    }

    private var stackDepth: Int {
        var depth = 1
        var parent = state.parent
        while parent >= 0 {
            depth += 1
            parent = matcher.arena[Int(parent)].parent
        }
        return depth
    }

    /// Frame `index` of the stack (0 = top) with counts that cannot matter within one token replaced by a
    /// representative, so states that allow the same tokens share a cache entry.
    private func canonicalFrame(_ index: Int) -> Frame {
        var frame = state.top
        var parent = state.parent
        for _ in 0..<index {
            frame = matcher.arena[Int(parent)].frame
            parent = matcher.arena[Int(parent)].parent
        }
        let reach = trie.maximumTokenLength + 1
        switch frame {
        case var .string(string):
            let node = program.strings[Int(string.node)]
            let reachBack = reach + (program.pattern(of: node)?.maximumDistanceChars ?? 0)
            if Int(string.count) >= node.minLength, node.maxLength == Int.max || node.maxLength - Int(string.count) > reachBack {
                string.count = Int32(node.minLength)
            }
            return .string(string)
        case var .array(array):
            let node = program.arrays[Int(array.node)]
            if Int(array.count) >= node.minItems, node.maxItems == Int.max || node.maxItems - Int(array.count) > reach {
                array.count = Int32(node.minItems)
            }
            return .array(array)
        default:
            return frame
        }
    }

    private func stateHash(depth: Int) -> Int {
        var hasher = Hasher()
        for index in 0..<depth { hasher.combine(canonicalFrame(index)) }
        return hasher.finalize()
    }
}
