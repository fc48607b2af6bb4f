/// Byte-level BPE: a word's bytes start as one token each, then the adjacent pair with the lowest merge rank is
/// merged until no pair has a merge (as llama.cpp's `llm_tokenizer_bpe_session` and Hugging Face `tokenizers` do).
struct BytePairEncoder: Sendable {
    /// The token each byte starts as (`noToken` when the vocabulary has none: it never merges and is dropped).
    let byteTokens: [TokenID]
    static let noToken: TokenID = -1
    /// (left << 32 | right) → (rank, merged token).
    private let merges: [UInt64: Merge]

    struct Merge: Sendable {
        var rank: Int32
        var result: TokenID
    }

    init(byteTokens: [TokenID], merges: [UInt64: Merge]) {
        self.byteTokens = byteTokens
        self.merges = merges
    }

    @inline(__always)
    static func key(_ left: TokenID, _ right: TokenID) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    /// Appends the tokens of one word to `output`.
    func encode(_ bytes: UnsafeBufferPointer<UInt8>, into output: inout [TokenID]) {
        if bytes.count == 1 {
            let token = byteTokens[Int(bytes[0])]
            if token != Self.noToken { output.append(token) }
            return
        }
        var symbols = bytes.map { byteTokens[Int($0)] }
        // Ranks of the pair starting at each symbol (Int32.max: no merge).
        var ranks = [Int32](repeating: .max, count: symbols.count)
        for index in 0..<(symbols.count - 1) {
            ranks[index] = merges[Self.key(symbols[index], symbols[index + 1])]?.rank ?? .max
        }
        while symbols.count > 1 {
            var best = Int32.max
            var bestIndex = -1
            for index in 0..<(symbols.count - 1) where ranks[index] < best {
                best = ranks[index]
                bestIndex = index
            }
            guard bestIndex >= 0, let merge = merges[Self.key(symbols[bestIndex], symbols[bestIndex + 1])] else { break }
            symbols[bestIndex] = merge.result
            symbols.remove(at: bestIndex + 1)
            ranks.remove(at: bestIndex + 1)
            if bestIndex + 1 < symbols.count {
                ranks[bestIndex] = merges[Self.key(symbols[bestIndex], symbols[bestIndex + 1])]?.rank ?? .max
            } else {
                ranks[bestIndex] = .max
            }
            if bestIndex > 0 {
                ranks[bestIndex - 1] = merges[Self.key(symbols[bestIndex - 1], symbols[bestIndex])]?.rank ?? .max
            }
        }
        for symbol in symbols where symbol != Self.noToken { output.append(symbol) }
    }
}
