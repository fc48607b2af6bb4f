public import Tokenizers

/// The vocabulary indexed for constrained decoding, built once per tokenizer and shared (immutable, `Sendable`) by
/// every constrained request.
///
/// Besides the trie of all tokens, it sorts out the tokens that are plain JSON string content (printable text,
/// complete escapes, complete UTF-8 scalars, no quote): inside a plain string their validity depends only on their
/// scalar count, so a string state's mask is a precomputed bitmask plus a walk over the few remaining tokens.
///
/// Tokens with no bytes (control tokens) are never allowed inside an answer; end-of-generation tokens are allowed
/// exactly when the answer is complete.
public final class TokenTrie: Sendable {
    /// Number of token ids (mask width).
    public let vocabularySize: Int
    /// End-of-generation ids (EOS, end-of-turn).
    public let endOfGeneration: [TokenID]
    /// Bytes of the longest token.
    public let maximumTokenLength: Int
    /// Every token with bytes.
    let all: ByteTrie
    /// Tokens that are not plain string content.
    let stringSpecial: ByteTrie
    /// `plainContentUpTo[k]`: mask of the plain-content tokens of at most `k` scalars (k ≥ 0).
    let plainContentUpTo: [[UInt64]]
    /// Bytes of every token: `tokenBytes[tokenStart[id]..<tokenStart[id + 1]]` (empty for control tokens).
    let tokenStart: [Int32]
    let tokenBytes: [UInt8]

    /// Indexes `tokenizer`'s vocabulary.
    public convenience init(tokenizer: Tokenizer) {
        var pieces: [[UInt8]] = []
        pieces.reserveCapacity(tokenizer.vocabularySize)
        var endOfGeneration: [TokenID] = []
        for id in 0..<tokenizer.vocabularySize {
            let token = TokenID(id)
            if tokenizer.isEndOfGeneration(token) {
                endOfGeneration.append(token)
                pieces.append([])
            } else {
                pieces.append(tokenizer.bytes(of: token))
            }
        }
        self.init(pieces: pieces, endOfGeneration: endOfGeneration)
    }

    /// Indexes a vocabulary given as the bytes of each id (empty: never allowed) and its end-of-generation ids.
    public init(pieces: [[UInt8]], endOfGeneration: [TokenID]) {
        vocabularySize = pieces.count
        let ends = Set(endOfGeneration.filter { $0 >= 0 && Int($0) < pieces.count })
        self.endOfGeneration = ends.sorted()
        var starts: [Int32] = [0]
        var flat: [UInt8] = []
        for piece in pieces {
            flat += piece
            starts.append(Int32(flat.count))
        }
        tokenStart = starts
        tokenBytes = flat
        let usable = (0..<pieces.count).filter { !pieces[$0].isEmpty && !ends.contains(TokenID($0)) }
        all = ByteTrie(ids: usable, pieces: pieces)
        var special: [Int] = []
        var plainByCount: [[Int]] = [[]]
        for id in usable {
            if let count = Self.plainContentScalars(pieces[id]) {
                while plainByCount.count <= count { plainByCount.append([]) }
                plainByCount[count].append(id)
            } else {
                special.append(id)
            }
        }
        stringSpecial = ByteTrie(ids: special, pieces: pieces)
        var cumulative = [UInt64](repeating: 0, count: (pieces.count + 63) / 64)
        var upTo: [[UInt64]] = []
        for ids in plainByCount {
            for id in ids { cumulative[id >> 6] |= 1 << UInt64(id & 63) }
            upTo.append(cumulative)
        }
        plainContentUpTo = upTo
        maximumTokenLength = pieces.map(\.count).max() ?? 0
    }

    /// The scalars `bytes` add to a JSON string when read from a clean content state and leaving one (no quote, no
    /// control byte, escapes and UTF-8 sequences complete and well-formed); nil otherwise. Must agree with
    /// `ByteMatcher.stepString` for a string without pattern or substring text.
    static func plainContentScalars(_ bytes: [UInt8]) -> Int? {
        var scalars = 0
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case 0x22, 0..<0x20:
                return nil
            case 0x5C:
                guard index + 1 < bytes.count, JSONStringEncoding.unescaped(bytes[index + 1]) != nil else { return nil }
                index += 2
            case 0x20..<0x80:
                index += 1
            default:
                let (length, low, high): (Int, UInt8, UInt8)
                switch byte {
                case 0xC2...0xDF: (length, low, high) = (2, 0x80, 0xBF)
                case 0xE0: (length, low, high) = (3, 0xA0, 0xBF)
                case 0xE1...0xEC, 0xEE...0xEF: (length, low, high) = (3, 0x80, 0xBF)
                case 0xED: (length, low, high) = (3, 0x80, 0x9F)
                case 0xF0: (length, low, high) = (4, 0x90, 0xBF)
                case 0xF1...0xF3: (length, low, high) = (4, 0x80, 0xBF)
                case 0xF4: (length, low, high) = (4, 0x80, 0x8F)
                default: return nil
                }
                guard index + length <= bytes.count, bytes[index + 1] >= low, bytes[index + 1] <= high else { return nil }
                for offset in 2..<max(2, length) where !(0x80...0xBF).contains(bytes[index + offset]) { return nil }
                index += length
            }
            scalars += 1
        }
        return scalars
    }

    /// Number of trie nodes over all tokens (the root included).
    public var nodeCount: Int { all.nodeCount }

    /// Number of tokens that are plain string content.
    public var plainContentTokenCount: Int { plainContentUpTo.last?.reduce(0) { $0 + $1.nonzeroBitCount } ?? 0 }

    /// The bytes of `token` as the matcher reads them (empty for control and end-of-generation tokens).
    public func bytes(of token: TokenID) -> ArraySlice<UInt8> {
        guard token >= 0, Int(token) < vocabularySize else { return [] }
        return tokenBytes[Int(tokenStart[Int(token)])..<Int(tokenStart[Int(token) + 1])]
    }
}
