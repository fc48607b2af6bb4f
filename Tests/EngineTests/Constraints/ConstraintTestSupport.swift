import Engine
import Foundation
import Generation
import Testing
import Tokenizers

/// SplitMix64: a small seeded generator, so every property test replays exactly.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }

    /// A standard normal variate (Box–Muller).
    mutating func normal() -> Double {
        let first = Double.random(in: Double.ulpOfOne..<1, using: &self)
        let second = Double.random(in: 0..<1, using: &self)
        return (-2 * Foundation.log(first)).squareRoot() * Foundation.cos(2 * Double.pi * second)
    }
}

enum ConstraintFixtures {
    /// `SPARROW_CACHE`, else `${XDG_CACHE_HOME:-$HOME/.cache}/sparrow`.
    static var cacheDirectory: URL {
        let environment = ProcessInfo.processInfo.environment
        if let cache = environment["SPARROW_CACHE"], !cache.isEmpty { return URL(fileURLWithPath: cache) }
        let base = environment["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? (NSHomeDirectory() + "/.cache")
        return URL(fileURLWithPath: base).appendingPathComponent("sparrow")
    }

    static var venvPython: URL { cacheDirectory.appendingPathComponent("venv/bin/python") }
    static var qwenVocabulary: URL { cacheDirectory.appendingPathComponent("fixtures/qwen2-vocab.gguf") }
    static let scripts = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Scripts/fixtures")

    /// A byte-level vocabulary: the 256 byte tokens, some JSON-ish multi-byte tokens (so tokens cross structure
    /// boundaries, as real ones do), a control token and an end-of-text token.
    static func syntheticTokenizer() throws -> Tokenizer {
        var tokens = (0..<256).map { String(ByteLevel.scalarForByte[$0]) }
        let pieces = [
            "{\"", "\":", "\",\"", "\"}", "\"]", "},{", "}]", "[{", "\":\"", "\":[", "\":{", "\":\"\"", "\"\"", "[]", "{}",
            "true", "false", "null", "tr", "ue", "fa", "lse", ",\"", "\"", "\\n", "\\\"", "\\\\", "\\u00", "12", "-1", "00",
            "000", "the", " the", "ing", " a", "é", "日本", "\u{1F600}", "\u{C3}", "\"x", "x\"", "a\"b", "\n", "\t",
            "}", "]", "1,", "2]", "0}", "\"a", "ab", "abc", "key", "name", "severity", "\"\n",
        ]
        for piece in pieces { tokens.append(ByteLevel.encode(Array(piece.utf8))) }
        tokens += ["<|im_start|>", "<|endoftext|>"]
        var types = [TokenType](repeating: .normal, count: tokens.count)
        types[tokens.count - 2] = .control
        types[tokens.count - 1] = .control
        return try Tokenizer(TokenizerConfiguration(
            tokens: tokens, tokenTypes: types, merges: [], preTokenizer: .qwen2, normalization: .none,
            eosID: TokenID(tokens.count - 1)
        ))
    }

    /// The Qwen2/Qwen3 vocabulary from the GGUF that `Scripts/fixtures/qwen-vocab` writes. Fails (never skips)
    /// when it is missing.
    static func qwenTokenizer() throws -> Tokenizer {
        let url = qwenVocabulary
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw FixtureMissing(description: "\(url.path) is missing: run Scripts/setup (it calls Scripts/fixtures/qwen-vocab)")
        }
        let metadata = try GGUFVocabularyReader(data: try Data(contentsOf: url, options: .alwaysMapped))
        let eos = metadata.eosID.map { TokenID($0) }
        var endOfGeneration = Set<TokenID>()
        for spelling in ["<|im_end|>", "<|endoftext|>"] {
            if let index = metadata.tokens.firstIndex(of: spelling) { endOfGeneration.insert(TokenID(index)) }
        }
        return try Tokenizer(TokenizerConfiguration(
            tokens: metadata.tokens, tokenTypes: metadata.tokenTypes.map { TokenType(rawValue: $0) ?? .normal },
            merges: [], preTokenizer: .qwen2, normalization: .nfc, eosID: eos, endOfGenerationIDs: endOfGeneration
        ))
    }

    struct FixtureMissing: Error, CustomStringConvertible {
        let description: String
    }
}

/// Reads the vocabulary keys of a GGUF file (tokens, token types, EOS), with every offset checked; the engine's
/// `GGUFFile` + `GGUFTokenizer` replace this once they are on main.
struct GGUFVocabularyReader {
    struct Malformed: Error, CustomStringConvertible {
        let description: String
    }

    var tokens: [String] = []
    var tokenTypes: [Int32] = []
    var eosID: UInt32?

    init(data: Data) throws {
        let bytes = [UInt8](data)
        var cursor = 0
        func need(_ count: Int) throws {
            guard count >= 0, cursor + count <= bytes.count else { throw Malformed(description: "GGUF truncated at byte \(cursor)") }
        }
        func integer<T: FixedWidthInteger>(_: T.Type) throws -> T {
            let size = MemoryLayout<T>.size
            try need(size)
            var value: T = 0
            for index in 0..<size { value |= T(truncatingIfNeeded: bytes[cursor + index]) << (8 * index) }
            cursor += size
            return value
        }
        func string() throws -> String {
            let length = try integer(UInt64.self)
            guard length < 1 << 30 else { throw Malformed(description: "string length \(length) at byte \(cursor)") }
            try need(Int(length))
            defer { cursor += Int(length) }
            return String(decoding: bytes[cursor..<(cursor + Int(length))], as: UTF8.self)
        }
        func take(_ count: Int) throws {
            try need(count)
            cursor += count
        }
        let sizes: [UInt32: Int] = [0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8]
        guard try integer(UInt32.self) == 0x4655_4747 else { throw Malformed(description: "not a GGUF file (magic)") }
        guard try integer(UInt32.self) == 3 else { throw Malformed(description: "expected GGUF version 3") }
        _ = try integer(UInt64.self)
        let keyCount = try integer(UInt64.self)
        for _ in 0..<keyCount {
            let key = try string()
            let type = try integer(UInt32.self)
            switch (key, type) {
            case ("tokenizer.ggml.tokens", 9):
                guard try integer(UInt32.self) == 8 else { throw Malformed(description: "\(key): expected strings") }
                let count = try integer(UInt64.self)
                for _ in 0..<count { tokens.append(try string()) }
            case ("tokenizer.ggml.token_type", 9):
                guard try integer(UInt32.self) == 5 else { throw Malformed(description: "\(key): expected int32") }
                let count = try integer(UInt64.self)
                for _ in 0..<count { tokenTypes.append(try integer(Int32.self)) }
            case ("tokenizer.ggml.eos_token_id", 4):
                eosID = try integer(UInt32.self)
            default:
                try skip(type: type)
            }
        }
        func skip(type: UInt32) throws {
            if let size = sizes[type] {
                try take(size)
            } else if type == 8 {
                try take(Int(try integer(UInt64.self)))
            } else if type == 9 {
                let elementType = try integer(UInt32.self)
                let count = try integer(UInt64.self)
                for _ in 0..<count { try skip(type: elementType) }
            } else {
                throw Malformed(description: "unknown GGUF value type \(type) at byte \(cursor)")
            }
        }
        guard !tokens.isEmpty else { throw Malformed(description: "no tokenizer.ggml.tokens") }
    }
}

/// A fake model: random logits at temperature 1.5. Each generation permutes one seeded table of Gaussian logits
/// (token v gets entry (a·v + b) mod V), so draws from the unconstrained distribution are a binary search, and
/// draws from the masked one are rejection sampling with an exact fallback over the allowed set.
struct FakeSampler {
    let vocabularySize: Int
    private let weights: [Double]
    private let cumulative: [Double]
    private var multiplier = 1
    private var offset = 0
    private var inverse = 1

    init(vocabularySize: Int, temperature: Double, seed: UInt64) {
        self.vocabularySize = vocabularySize
        var generator = SeededGenerator(seed: seed)
        var weights: [Double] = []
        weights.reserveCapacity(vocabularySize)
        for _ in 0..<vocabularySize { weights.append(Foundation.exp(2 * generator.normal() / temperature)) }
        var total = 0.0
        cumulative = weights.map { total += $0; return total }
        self.weights = weights
    }

    /// New logits for the next generation.
    mutating func shuffle(using generator: inout SeededGenerator) {
        repeat {
            multiplier = Int.random(in: 1..<vocabularySize, using: &generator)
        } while Self.gcd(multiplier, vocabularySize) != 1
        offset = Int.random(in: 0..<vocabularySize, using: &generator)
        inverse = Self.modularInverse(multiplier, vocabularySize)
    }

    private func weight(of token: Int) -> Double { weights[(multiplier * token + offset) % vocabularySize] }

    /// One token from the distribution restricted to `mask`.
    func sample(_ mask: TokenMask, using generator: inout SeededGenerator) -> Int32 {
        let total = cumulative[vocabularySize - 1]
        for _ in 0..<64 {
            let target = Double.random(in: 0..<total, using: &generator)
            var low = 0
            var high = vocabularySize - 1
            while low < high {
                let middle = (low + high) / 2
                if cumulative[middle] <= target { low = middle + 1 } else { high = middle }
            }
            let token = ((low - offset + vocabularySize) % vocabularySize * inverse) % vocabularySize
            if mask.contains(Int32(token)) { return Int32(token) }
        }
        var allowed: [(Int32, Double)] = []
        var sum = 0.0
        mask.forEachAllowed { token in
            let value = weight(of: Int(token))
            allowed.append((token, value))
            sum += value
        }
        var target = Double.random(in: 0..<sum, using: &generator)
        for (token, value) in allowed {
            target -= value
            if target < 0 { return token }
        }
        return allowed.last?.0 ?? -1
    }

    private static func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }

    private static func modularInverse(_ value: Int, _ modulus: Int) -> Int {
        var (oldR, r) = (value, modulus)
        var (oldS, s) = (1, 0)
        while r != 0 {
            let quotient = oldR / r
            (oldR, r) = (r, oldR - quotient * r)
            (oldS, s) = (s, oldS - quotient * s)
        }
        return ((oldS % modulus) + modulus) % modulus
    }
}

/// Runs one constrained generation with the fake sampler; returns the answer bytes and the tokens used, and adds
/// the time spent in `allowedTokens()` to `maskTime`.
func generateConstrained(
    session: ConstraintSession, sampler: FakeSampler, generator: inout SeededGenerator, maskTime: inout Duration
) throws -> (bytes: [UInt8], tokens: Int, deadEnd: Bool) {
    var bytes: [UInt8] = []
    var tokens = 0
    let ends = Set(session.trie.endOfGeneration)
    while !session.mustEnd {
        let start = ContinuousClock.now
        let mask = session.allowedTokens()
        maskTime += ContinuousClock.now - start
        if mask.count == 0 { return (bytes, tokens, true) }
        let token = sampler.sample(mask, using: &generator)
        if ends.contains(token) { break }
        try session.advance(token)
        bytes += session.trie.bytes(of: token)
        tokens += 1
    }
    return (bytes, tokens, false)
}
