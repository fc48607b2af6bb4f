import Generation
import Testing
import Tokenizers
@testable import Engine

/// The plain-string shortcut (precomputed masks by scalar count) and the mask cache (states keyed with counts that
/// cannot matter within one token folded together) must give exactly the masks of a fresh full trie walk.
@Suite struct MaskShortcutTests {
    /// Random tokens over an alphabet rich in the bytes strings care about: quotes, backslashes, escape letters,
    /// controls, UTF-8 lead and continuation bytes.
    static func adversarialTrie(seed: UInt64) -> TokenTrie {
        var generator = SeededGenerator(seed: seed)
        let alphabet: [UInt8] = Array("\"\\nrtbfu/ a1{}[],:-".utf8) + [0x0A, 0x09, 0x01, 0xC3, 0xA9, 0xE6, 0x97, 0xA5, 0xF0, 0x9F, 0x98, 0x80, 0xED, 0xBF]
        var pieces = (0..<256).map { [UInt8($0)] }
        for _ in 0..<3000 {
            pieces.append((0..<Int.random(in: 2...7, using: &generator)).map { _ in alphabet.randomElement(using: &generator) ?? 0x61 })
        }
        pieces.append([])
        return TokenTrie(pieces: pieces, endOfGeneration: [TokenID(pieces.count - 1)])
    }

    @Test(arguments: [UInt64(1), 2, 3])
    func shortcutAndCachedMasksEqualFreshFullWalks(seed: UInt64) throws {
        let trie = Self.adversarialTrie(seed: seed)
        #expect(trie.plainContentTokenCount > 300, "the vocabulary should exercise the shortcut")
        var generator = SeededGenerator(seed: seed ^ 99)
        var schemas = RandomSchemas(seed: seed)
        var sampler = FakeSampler(vocabularySize: trie.vocabularySize, temperature: 1.5, seed: seed)
        var compared = 0
        for _ in 0..<60 {
            let schema = schemas.schema()
            let program = try ConstraintProgram(schema: schema)
            let fast = try ConstraintSession(program: program, trie: trie, maxTokens: program.shortestAnswerBytes)
            let full = try ConstraintSession(program: program, trie: trie, maxTokens: program.shortestAnswerBytes, cacheCapacity: 0)
            full.usesPlainStringShortcut = false
            full.usesCache = false
            for _ in 0..<5 {
                let budget = program.shortestAnswerBytes + Int.random(in: 0...60, using: &generator)
                try fast.reset(maxTokens: budget)
                try full.reset(maxTokens: budget)
                sampler.shuffle(using: &generator)
                while !fast.mustEnd {
                    let mask = fast.allowedTokens()
                    let words = mask.words
                    #expect(words == full.allowedTokens().words, "masks differ for \(jsonText(schema))")
                    compared += 1
                    let token = sampler.sample(mask, using: &generator)
                    if trie.endOfGeneration.contains(token) { break }
                    try fast.advance(token)
                    try full.advance(token)
                }
            }
        }
        #expect(compared > 200)
    }
}
