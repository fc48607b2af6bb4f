/// A set of allowed token ids as a bitmask over the vocabulary (bit `id % 64` of word `id / 64`).
///
/// Masks handed out by a session are shared with its cache: read them before the session's next
/// `allowedTokens()` and never keep them across steps.
public final class TokenMask {
    /// The bits; `words.count == (vocabularySize + 63) / 64`.
    public private(set) var words: [UInt64]
    /// Vocabulary size the mask covers.
    public let vocabularySize: Int

    /// An empty mask.
    public init(vocabularySize: Int) {
        self.vocabularySize = vocabularySize
        words = [UInt64](repeating: 0, count: (vocabularySize + 63) / 64)
    }

    /// Whether `token` is allowed.
    @inline(__always)
    public func contains(_ token: Int32) -> Bool {
        guard token >= 0, Int(token) < vocabularySize else { return false }
        return words[Int(token) >> 6] & (1 << UInt64(token & 63)) != 0
    }

    /// Number of allowed tokens.
    public var count: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }

    /// Sets every disallowed logit to −∞ (`logits.count` must be at least the vocabulary size; extra entries, such
    /// as padding rows of the output matrix, are disallowed too).
    public func apply(to logits: UnsafeMutableBufferPointer<Float>) {
        for index in 0..<logits.count {
            let allowed = index < vocabularySize && words[index >> 6] & (1 << UInt64(index & 63)) != 0
            if !allowed { logits[index] = -.infinity }
        }
    }

    /// Calls `body` with each allowed id in increasing order.
    public func forEachAllowed(_ body: (Int32) -> Void) {
        for (wordIndex, word) in words.enumerated() {
            var bits = word
            while bits != 0 {
                body(Int32(wordIndex << 6 | bits.trailingZeroBitCount))
                bits &= bits - 1
            }
        }
    }

    @inline(__always)
    func insert(_ token: Int32) {
        words[Int(token) >> 6] |= 1 << UInt64(token & 63)
    }

    /// Runs `body` with the words as a mutable buffer (no exclusivity checks per bit in hot loops).
    func withMutableWords<Result>(_ body: (UnsafeMutableBufferPointer<UInt64>) -> Result) -> Result {
        words.withUnsafeMutableBufferPointer { body($0) }
    }

    /// Sets the mask to `include` minus `exclude` (word arrays of the same width).
    func assign(_ include: [UInt64], minus exclude: [UInt64]?) {
        if let exclude {
            for index in words.indices { words[index] = include[index] & ~exclude[index] }
        } else {
            for index in words.indices { words[index] = include[index] }
        }
    }

    func removeAll() {
        for index in words.indices { words[index] = 0 }
    }
}
