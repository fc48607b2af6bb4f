import Foundation
import Generation
import Testing
import Tokenizers
@testable import Engine

/// The prefix cache (DESIGN.md §6): requests that share a prompt prefix compute it once, and their answers are
/// exactly those computed without the cache.
@Suite struct PrefixCacheTests {
    static func engine(cacheBytes: Int?) throws -> (LocalEngine, ScriptedPagedModel) {
        let tokenizer = try MockVocabulary.tokenizer()
        let model = ScriptedPagedModel(vocabularySize: tokenizer.vocabularySize)
        let settings = LocalEngine.Settings(contextLength: 4096, parallel: 16, memoryBudget: 1 << 30, prefillChunk: 256,
                                            prefixCacheBytes: cacheBytes)
        return (LocalEngine(languageModel: model, tokenizer: tokenizer, chatTemplate: nil, identity: "scripted",
                            settings: settings), model)
    }

    /// A 2,000-byte (so 2,000-token: the mock vocabulary is byte-level without merges) shared prefix.
    static let prefix: String = {
        var text = ""
        var n: UInt64 = 7
        while text.utf8.count < 2000 {
            n = n &* 6364136223846793005 &+ 1442695040888963407
            text += ["func ", "let ", "return ", "x", "y", "+ ", "\n", "{ ", "} ", "// review "][Int(n >> 60) % 10]
        }
        return String(text.utf8.prefix(2000).map { Character(Unicode.Scalar($0)) })
    }()

    static func run(_ engine: LocalEngine, suffixes: [String]) async throws -> [GenerationResponse] {
        try await withThrowingTaskGroup(of: (Int, GenerationResponse).self) { group in
            for (index, suffix) in suffixes.enumerated() {
                group.addTask {
                    let request = GenerationRequest(id: "chunk-\(index)", prompt: .text(prefix + suffix), maxTokens: 6)
                    return (index, try await engine.generate(request))
                }
            }
            var collected = [GenerationResponse?](repeating: nil, count: suffixes.count)
            for try await (index, response) in group { collected[index] = response }
            return collected.compactMap { $0 }
        }
    }

    @Test("16 requests sharing a 2,000-token prefix compute it once; answers equal the cache-off answers")
    func sixteenRequestsShareTheirPrefix() async throws {
        let suffixes = (0..<16).map { "\n@@ chunk \($0) @@\n" + String(repeating: "+ changed line \($0)\n", count: 1 + $0 % 4) }
        let (cached, cachedModel) = try Self.engine(cacheBytes: nil)
        let (plain, plainModel) = try Self.engine(cacheBytes: 0)
        let withCache = try await Self.run(cached, suffixes: suffixes)
        let without = try await Self.run(plain, suffixes: suffixes)
        #expect(withCache.count == 16 && without.count == 16)
        #expect(withCache.map(\.text) == without.map(\.text))
        #expect(Set(withCache.map(\.text)).count > 1, "different suffixes give different answers")

        let prefixTokens = try cached.tokens(for: .text(Self.prefix)).count
        #expect(prefixTokens == 2000)
        let suffixTokens = suffixes.map { $0.utf8.count }.reduce(0, +)
        let computedPrompt = withCache.map { $0.usage.promptTokens - $0.usage.cachedPromptTokens }.reduce(0, +)
        #expect(computedPrompt <= prefixTokens + suffixTokens)
        #expect(withCache.map(\.usage.promptTokens) == without.map(\.usage.promptTokens))
        #expect(without.allSatisfy { $0.usage.cachedPromptTokens == 0 })
        // What the model actually ran: the computed prompt tokens plus each fed-back answer token.
        let fedBack = withCache.map { $0.usage.completionTokens - 1 }.reduce(0, +)
        #expect(cachedModel.computedTokens == computedPrompt + fedBack)
        #expect(plainModel.computedTokens == 16 * prefixTokens + suffixTokens + fedBack)
    }

    @Test("a later request reuses the pages an earlier one left in the cache, the last one in part")
    func laterRequestHitsTheCache() async throws {
        let (engine, model) = try Self.engine(cacheBytes: nil)
        let first = try await engine.generate(GenerationRequest(id: "a", prompt: .text(Self.prefix + "1: the first chunk, long enough to fill a page"), maxTokens: 3))
        let before = model.computedTokens
        let second = try await engine.generate(GenerationRequest(id: "b", prompt: .text(Self.prefix + "2: the second chunk"), maxTokens: 3))
        #expect(first.usage.cachedPromptTokens == 0)
        // Whole 32-token pages of the shared 2,000 tokens: 62 pages.
        // Every shared token: 62 whole pages and the first 16 tokens of the 63rd (copied before it is written).
        #expect(second.usage.cachedPromptTokens == 2000)
        #expect(model.computedTokens - before == second.usage.promptTokens - second.usage.cachedPromptTokens + 2)
    }

    @Test("a tiny byte bound keeps the cache within it (least recently used blocks go)")
    func boundIsKept() throws {
        let cache = PrefixCache(byteLimit: 3 * 2 * 1 * 2 * 32 * 4)  // three pages of a 1-layer, width-2 cache
        let state = try KVCacheState(layers: 1, width: 2, kvHeads: 1, capacity: 256)
        for position in 0..<200 {
            state.key(layer: 0, position: position)[0] = 1
            state.value(layer: 0, position: position)[0] = 2
        }
        state.advance(by: 200)
        let tokens = (0..<200).map { TokenID($0 % 50) }
        cache.insert(tokens, state: state, blocks: 6)
        #expect(cache.bytes <= cache.byteLimit)
        #expect(cache.count == 3)
        // The first blocks of the chain were inserted first, but the eviction drops the last ones of an insert first
        // (children before parents), so the chain's start stays usable.
        #expect(cache.lookup(tokens, blockSize: 32, maxTokens: 199).tokens == 96)
    }
}
