import Foundation
public import Generation
public import Tokenizers

/// Chooses the next token from logits: greedy (ties to the lowest id) when `temperature == 0`, otherwise
/// temperature, top-k, top-p and min-p with a per-request seeded random stream, so the same request gives the same
/// answer whatever else is decoded beside it. A per-request session value.
public struct Sampler: Sendable {
    public let parameters: SamplingParameters
    private var random: SplitMix64
    /// Buffers of the sampling rule, kept between tokens so a request's steps reuse them (issue 12).
    private var candidates: [(id: Int, logit: Double)] = []
    private var probabilities: [Double] = []

    public init(_ parameters: SamplingParameters) {
        self.parameters = parameters
        random = SplitMix64(seed: parameters.seed)
    }

    /// The next token. `allowed`, when given, is checked per id (a constraint's mask); disallowed ids are never
    /// chosen. Returns nil when nothing is allowed. Prefer `next(_:mask:)`: it reads the mask a word at a time.
    public mutating func next(_ logits: [Float], allowed: ((TokenID) -> Bool)? = nil) -> TokenID? {
        guard let allowed else { return choose(logits, from: AllIDs(count: logits.count)) }
        return choose(logits, from: FilteredIDs(count: logits.count, allowed: allowed))
    }

    /// The next token among the ids set in `mask` (every id when nil), read 64 ids per word: an empty word costs
    /// one comparison, a full one visits its ids in order. Chooses exactly what `next(_:allowed:)` chooses with
    /// `mask.contains` as the predicate (same ids in the same order, same random draws). Ids at or past the mask's
    /// vocabulary size (padding rows of the output matrix) are never allowed.
    public mutating func next(_ logits: [Float], mask: TokenMask?) -> TokenID? {
        guard let mask else { return choose(logits, from: AllIDs(count: logits.count)) }
        return choose(logits, from: MaskIDs(count: min(logits.count, mask.vocabularySize), words: mask.words))
    }

    /// The sampling rule over the candidate ids `ids` yields (in increasing order).
    private mutating func choose<IDs: CandidateIDs>(_ logits: [Float], from ids: IDs) -> TokenID? {
        if parameters.temperature <= 0 {
            var best = -1
            var bestValue = -Float.infinity
            logits.withUnsafeBufferPointer { values in
                ids.forEach { index in
                    let value = values[index]
                    if value.isNaN || (best >= 0 && value <= bestValue) { return }
                    best = index
                    bestValue = value
                }
            }
            return best < 0 ? nil : TokenID(best)
        }
        // Candidates, most likely first (ties by id), after the mask.
        candidates.removeAll(keepingCapacity: true)
        candidates.reserveCapacity(ids.capacityHint)
        let temperature = parameters.temperature
        logits.withUnsafeBufferPointer { values in
            ids.forEach { index in
                let value = values[index]
                if value.isNaN || value == -.infinity { return }
                candidates.append((index, Double(value) / temperature))
            }
        }
        guard !candidates.isEmpty else { return nil }
        candidates.sort { $0.logit != $1.logit ? $0.logit > $1.logit : $0.id < $1.id }
        if parameters.topK > 0, candidates.count > parameters.topK { candidates.removeLast(candidates.count - parameters.topK) }
        let maximum = candidates[0].logit
        probabilities.removeAll(keepingCapacity: true)
        for candidate in candidates { probabilities.append(exp(candidate.logit - maximum)) }
        var total = probabilities.reduce(0, +)
        if parameters.minP > 0 {
            let floor = parameters.minP // relative to the top probability, which is exp(0) / total
            var kept = 0
            while kept < probabilities.count, probabilities[kept] >= floor * probabilities[0] { kept += 1 }
            probabilities.removeLast(probabilities.count - max(kept, 1))
            total = probabilities.reduce(0, +)
        }
        if parameters.topP < 1 {
            var cumulative = 0.0
            var kept = 0
            while kept < probabilities.count {
                cumulative += probabilities[kept] / total
                kept += 1
                if cumulative >= parameters.topP { break }
            }
            probabilities.removeLast(probabilities.count - kept)
            total = probabilities.reduce(0, +)
        }
        let target = random.nextUnit() * total
        var cumulative = 0.0
        for (index, probability) in probabilities.enumerated() {
            cumulative += probability
            if target < cumulative { return TokenID(candidates[index].id) }
        }
        return TokenID(candidates[probabilities.count - 1].id)
    }
}

/// The ids a sampler may choose, visited in increasing order.
private protocol CandidateIDs {
    /// How many ids there may be (to size buffers).
    var capacityHint: Int { get }
    func forEach(_ body: (Int) -> Void)
}

/// Every id below `count`.
private struct AllIDs: CandidateIDs {
    let count: Int
    var capacityHint: Int { count }

    func forEach(_ body: (Int) -> Void) {
        for index in 0..<count { body(index) }
    }
}

/// The ids below `count` that `allowed` accepts, asked one by one.
private struct FilteredIDs: CandidateIDs {
    let count: Int
    let allowed: (TokenID) -> Bool
    var capacityHint: Int { count }

    func forEach(_ body: (Int) -> Void) {
        for index in 0..<count where allowed(TokenID(index)) { body(index) }
    }
}

/// The ids below `count` whose bits are set in a mask's words (bit `id % 64` of word `id / 64`).
private struct MaskIDs: CandidateIDs {
    let count: Int
    let words: [UInt64]
    var capacityHint: Int { min(count, 4_096) }

    func forEach(_ body: (Int) -> Void) {
        let wordCount = min(words.count, (count + 63) / 64)
        words.withUnsafeBufferPointer { words in
            for wordIndex in 0..<wordCount {
                var bits = words[wordIndex]
                if wordIndex == wordCount - 1, count % 64 != 0 { bits &= (1 << UInt64(count % 64)) - 1 }
                while bits != 0 {
                    body(wordIndex << 6 | bits.trailingZeroBitCount)
                    bits &= bits - 1
                }
            }
        }
    }
}

/// A small, fast, seedable generator (Steele, Lea, Flood: SplitMix64); the same seed gives the same stream.
public struct SplitMix64: Sendable {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    public mutating func nextUnit() -> Double {
        Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }
}
