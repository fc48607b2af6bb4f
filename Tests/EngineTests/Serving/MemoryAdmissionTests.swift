import Foundation
import Generation
import Testing
import Tokenizers
@testable import Engine

/// Memory admission with the prefix cache (issue 12): the cache's bytes count in the `model.memory` budget, and the
/// cache gives way (evicts) before a request has to wait for memory.
@Suite struct MemoryAdmissionTests {
    /// Deterministic printable text of `count` bytes (the mock vocabulary makes one token per byte).
    static func text(_ count: Int, seed: UInt64) -> String {
        var n = seed
        return String((0..<count).map { _ in
            n = n &* 6364136223846793005 &+ 1442695040888963407
            return Character(Unicode.Scalar(UInt8(97 + (n >> 59) % 26)))
        })
    }

    /// An engine over the scripted paged model (16 cache bytes per token) whose prefix cache may take the whole
    /// `budget`.
    static func engine(budget: Int, contextLength: Int) throws -> LocalEngine {
        try engineAndModel(budget: budget, contextLength: contextLength).engine
    }

    static func engineAndModel(budget: Int, contextLength: Int) throws -> (engine: LocalEngine, model: ScriptedPagedModel) {
        let tokenizer = try MockVocabulary.tokenizer()
        let model = ScriptedPagedModel(vocabularySize: tokenizer.vocabularySize)
        let settings = LocalEngine.Settings(contextLength: contextLength, parallel: 4, memoryBudget: budget,
                                            prefillChunk: 256, prefixCacheBytes: budget)
        let engine = LocalEngine(languageModel: model, tokenizer: tokenizer, chatTemplate: nil, identity: "scripted",
                                 settings: settings)
        return (engine, model)
    }

    @Test("a request that fits beside the running one runs beside it: the cache evicts to make room")
    func cacheGivesWay() async throws {
        let budget = 1 << 17
        let (engine, model) = try Self.engineAndModel(budget: budget, contextLength: 4096)

        // 1. A 4,000-token prompt alone leaves its 125 pages (512 bytes each) in the cache.
        _ = try await engine.generate(GenerationRequest(id: "fill", prompt: .text(Self.text(4000, seed: 1)), maxTokens: 2))
        let filled = engine.memoryReport
        #expect(filled.prefixCacheBytes == 125 * 512)
        #expect(filled.sequenceBytes == 0)

        // 2. A long-running request reserves 64,000 bytes: 4,000 tokens of prompt and answer. The model holds it at
        // position 2,000 (its 1,000th answer token) until the short request waits for admission, and again at
        // position 3,500, after the short one has ended, until the test has read the memory report: no step of the
        // test depends on how fast the machine runs either request.
        let admitted = DispatchSemaphore(value: 0), reported = DispatchSemaphore(value: 0)
        model.holds.add(atPosition: 2000, until: admitted)
        model.holds.add(atPosition: 3500, until: reported)
        defer { admitted.signal(); reported.signal() }  // never leave the engine's thread waiting
        let long = Task {
            try await engine.generate(GenerationRequest(id: "long", prompt: .text(Self.text(1000, seed: 2)), maxTokens: 3000))
        }
        try await model.holds.waitUntilReached(1)
        let beside = engine.memoryReport
        #expect(beside.sequenceBytes == 64_000)
        #expect(beside.sequenceBytes + beside.prefixCacheBytes <= budget, "the cache gave way to the running request")

        // 3. A short request needs 9,600 bytes more: it fits beside the long one only once the cache shrinks. It
        // ends ~100 steps after its admission, when the long one is near position 2,100.
        let short = Task {
            try await engine.generate(GenerationRequest(id: "short", prompt: .text(Self.text(500, seed: 3)), maxTokens: 100))
        }
        try await waitUntil("the short request waiting") { engine.memoryReport.waitingRequests == 1 }
        admitted.signal()
        let shortResponse = try await short.value
        try await model.holds.waitUntilReached(2)
        let during = engine.memoryReport
        reported.signal()
        let longResponse = try await long.value
        #expect(shortResponse.usage.completionTokens == 100 && longResponse.usage.completionTokens == 3000)
        #expect(during.peakSequences == 2, "the short request ran beside the long one instead of waiting for it")
        #expect(during.sequenceBytes == 64_000, "the long request was still running when the short one ended")
        let report = engine.memoryReport
        #expect(report.peakBytes <= budget, "sequences and cache together stayed within the budget: \(report)")
        #expect(report.peakBytes > filled.prefixCacheBytes, "the peak includes the cache")
        #expect(report.prefixCacheBytes < filled.prefixCacheBytes, "the cache evicted blocks")
    }

    @Test("a request that does not fit beside the running ones waits, even with the cache emptied")
    func tooLargeWaits() async throws {
        let budget = 1 << 16
        let engine = try Self.engine(budget: budget, contextLength: 4096)
        // Each reserves (1,000 + 1,200) × 16 = 35,200 bytes: two do not fit in 65,536.
        async let a = engine.generate(GenerationRequest(id: "a", prompt: .text(Self.text(1000, seed: 4)), maxTokens: 1200))
        async let b = engine.generate(GenerationRequest(id: "b", prompt: .text(Self.text(1000, seed: 5)), maxTokens: 1200))
        let (first, second) = try await (a, b)
        #expect(first.usage.completionTokens == 1200 && second.usage.completionTokens == 1200)
        let report = engine.memoryReport
        #expect(report.peakSequences == 1)
        #expect(report.peakBytes <= budget)
    }
}

extension MemoryAdmissionTests {
    @Test("when the cache gives way to a request, it keeps the prefix that request will adopt")
    func evictionSparesTheAdmittedPrefix() async throws {
        let budget = 1 << 17
        let engine = try Self.engine(budget: budget, contextLength: 8192)
        let shared = Self.text(2000, seed: 6)
        _ = try await engine.generate(GenerationRequest(id: "p", prompt: .text(shared), maxTokens: 2))
        _ = try await engine.generate(GenerationRequest(id: "q", prompt: .text(Self.text(2000, seed: 7)), maxTokens: 2))
        // 62 pages of each prompt, the first prompt's the least recently used.
        #expect(engine.memoryReport.prefixCacheBytes == 2 * 62 * 512)
        // (2,000 + 2,900 + 2) × 16 bytes leave the cache room for 102 pages, not 124: the other prompt's go.
        let again = try await engine.generate(GenerationRequest(id: "p2", prompt: .text(shared + Self.text(2900, seed: 8)), maxTokens: 2))
        #expect(again.usage.cachedPromptTokens == 62 * 32, "every whole page of the shared prompt")
        #expect(engine.memoryReport.peakBytes <= budget)
    }
}
