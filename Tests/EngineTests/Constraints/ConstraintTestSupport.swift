import Engine
import Foundation
import GGUF
import Generation
import Testing
import TestSupport
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

    /// The Qwen2/Qwen3 vocabulary from the GGUF that `Scripts/fixtures/qwen-vocab` writes, read by the engine's
    /// `GGUFFile` and `GGUFTokenizer`. Fails (never skips) when it is missing.
    static func qwenTokenizer() throws -> Tokenizer {
        let url = qwenVocabulary
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw FixtureMissing(description: "\(url.path) is missing: run Scripts/setup (it calls Scripts/fixtures/qwen-vocab)")
        }
        let file = try GGUFFile(contentsOf: url)
        return try GGUFTokenizer(metadata: file.metadata, path: url.path).tokenizer
    }

    struct FixtureMissing: Error, CustomStringConvertible {
        let description: String
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

/// Runs Scripts/fixtures/constraints_validate.py (Python's `jsonschema`, Draft 2020-12, from the setup venv) over
/// `{"schema": …, "answer": …}` lines; records an issue for any answer it rejects. A missing venv fails the test.
func validateWithPythonJSONSchema(_ pairs: [String]) throws {
    let python = ConstraintFixtures.venvPython
    guard FileManager.default.isExecutableFile(atPath: python.path) else {
        Issue.record("no Python venv at \(python.path): run Scripts/setup (it installs check-jsonschema, which brings jsonschema)")
        return
    }
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-constraints-\(UUID().uuidString).jsonl")
    defer { try? FileManager.default.removeItem(at: file) }
    try Data((pairs.joined(separator: "\n") + "\n").utf8).write(to: file)
    let script = ConstraintFixtures.scripts.appendingPathComponent("constraints_validate.py")
    let result = try runProcess(python, arguments: [script.path, file.path], watchdogSeconds: 300)
    #expect(result.exitCode == 0, "jsonschema rejected answers:\n\(result.standardOutput.prefix(4000))\(result.standardError.prefix(2000))")
    #expect(result.standardOutput.contains("\(pairs.count)/\(pairs.count) valid"), "\(result.standardOutput.suffix(500))")
}
