import Foundation
import Generation
import Testing
import Tokenizers
@testable import Engine

/// The prefix cache for qwen3next under the scheduler (issue 12): requests sharing a long prefix compute it once
/// (up to the last prefill-chunk boundary inside it, where the recurrent snapshot is), and every forward item they
/// run is bit-identical to one the cache-off run computes.
@Suite("qwen3next prefix cache in the scheduler")
struct Qwen3NextPrefixServingTests {
    static func limits(cacheBytes: Int) -> BatchScheduler.Limits {
        var limits = BatchScheduler.Limits()
        limits.prefillChunk = 256
        limits.maxBatchTokens = 512
        limits.maxSequences = 16
        limits.memoryBudget = 1 << 30
        limits.prefixCacheBytes = cacheBytes
        return limits
    }

    /// `count` prompts: a shared prefix of `prefix` tokens, then `header` more shared tokens, then a suffix of its
    /// own (5 to 35 tokens).
    static func prompts(prefix: Int, count: Int, header: Int = 0) -> [[TokenID]] {
        let shared = Qwen3NextPrefixCacheTests.tokens(prefix, seed: 21)
            + Qwen3NextPrefixCacheTests.tokens(header, seed: 22)
        return (0..<count).map { shared + [TokenID(280 - $0)] + Qwen3NextPrefixCacheTests.tokens(4 + 10 * ($0 % 4), seed: 100 + $0) }
    }

    /// How many of `on`'s forward items have no bit-identical twin (same start, tokens and logits) among `off`'s.
    static func unmatched(_ on: RecordingModel, _ off: RecordingModel) -> Int {
        var pool: [RecordingModel.Item: Int] = [:]
        for item in off.items { pool[item, default: 0] += 1 }
        return on.items.filter { item in
            guard let count = pool[item], count > 0 else { return true }
            pool[item] = count - 1
            return false
        }.count
    }

    @Test("requests sharing a prefix: same answers and forward items with the cache on and off",
          arguments: ["qwen3next-a", "qwen3next-b"])
    func cacheOnAndOff(name: String) async throws {
        let loaded = try loadFixtureModel(try ModelFixture.named(name).modelPath)
        let prompts = Self.prompts(prefix: 600, count: 5)
        let on = RecordingModel(loaded.model), off = RecordingModel(loaded.model)
        let tokenizer = loaded.tokenizer.tokenizer
        let cached = try await schedule(on, tokenizer: tokenizer, prompts: prompts, maxTokens: 5, limits: Self.limits(cacheBytes: 64 << 20))
        let plain = try await schedule(off, tokenizer: tokenizer, prompts: prompts, maxTokens: 5, limits: Self.limits(cacheBytes: 0))
        #expect(cached.map(\.text) == plain.map(\.text))
        #expect(cached.map(\.usage.completionTokens) == plain.map(\.usage.completionTokens))
        #expect(plain.allSatisfy { $0.usage.cachedPromptTokens == 0 })
        // Resume points are the 256-token chunk ends: 512 of the 600 shared tokens.
        #expect(cached.filter { $0.usage.cachedPromptTokens == 512 }.count == prompts.count - 1)
        // Every item the cached run computed (beside whatever else ran in its batch) has the bits of one the
        // cache-off run computed: the same start, tokens and logits.
        var pool: [RecordingModel.Item: Int] = [:]
        for item in off.items { pool[item, default: 0] += 1 }
        var unmatched = 0
        for item in on.items {
            if let count = pool[item], count > 0 { pool[item] = count - 1 } else { unmatched += 1 }
        }
        #expect(unmatched == 0, "\(name): \(unmatched) of \(on.items.count) forward items have no bit-identical twin")
        #expect(on.computedTokens < off.computedTokens)
    }

    @Test("a prefill chunk that is not a multiple of the page: resume points where both end (every 160 tokens for 80 and 32)")
    func unalignedChunk() async throws {
        let loaded = try loadFixtureModel(try ModelFixture.named("qwen3next-b").modelPath)
        let prompts = Self.prompts(prefix: 350, count: 3)
        var limits = Self.limits(cacheBytes: 64 << 20)
        limits.prefillChunk = 80
        limits.maxBatchTokens = 160
        let on = RecordingModel(loaded.model), off = RecordingModel(loaded.model)
        let tokenizer = loaded.tokenizer.tokenizer
        let cached = try await schedule(on, tokenizer: tokenizer, prompts: prompts, maxTokens: 3, limits: limits)
        limits.prefixCacheBytes = 0
        let plain = try await schedule(off, tokenizer: tokenizer, prompts: prompts, maxTokens: 3, limits: limits)
        #expect(cached.map(\.text) == plain.map(\.text))
        #expect(cached.map(\.usage.cachedPromptTokens).sorted() == [0, 320, 320])
        var pool: [RecordingModel.Item: Int] = [:]
        for item in off.items { pool[item, default: 0] += 1 }
        let unmatched = on.items.filter { item in
            guard let count = pool[item], count > 0 else { return true }
            pool[item] = count - 1
            return false
        }
        #expect(unmatched.isEmpty, "\(unmatched.count) of \(on.items.count) forward items have no bit-identical twin")
    }

    @Test("16 requests sharing a 2,000-token prefix compute at most 2,000 + Σ suffixes + 15 × (2,000 mod 256)")
    func acceptance() async throws {
        let loaded = try loadFixtureModel(try ModelFixture.named("qwen3next-a").modelPath)
        let prefix = 2000, chunk = 256
        let prompts = Self.prompts(prefix: prefix, count: 16)
        let model = RecordingModel(loaded.model)
        let responses = try await schedule(model, tokenizer: loaded.tokenizer.tokenizer, prompts: prompts, maxTokens: 3,
                                           limits: Self.limits(cacheBytes: 256 << 20))
        #expect(responses.count == 16)
        let suffixes = prompts.map { $0.count - prefix }.reduce(0, +)
        // The counters run-info.json sums: prompt tokens minus those served from the cache.
        let computed = responses.map { $0.usage.promptTokens - $0.usage.cachedPromptTokens }.reduce(0, +)
        let bound = prefix + suffixes + (prompts.count - 1) * (prefix % chunk)
        print("qwen3next, 16 requests × 2,000 shared tokens: computed \(computed) prompt tokens, bound \(bound), "
              + "without the cache \(prompts.map(\.count).reduce(0, +))")
        #expect(computed <= bound)
        // The first computes everything; the others resume at the last chunk boundary inside the prefix.
        #expect(responses.map(\.usage.cachedPromptTokens).sorted() == [0] + Array(repeating: prefix / chunk * chunk, count: 15))
        // What the model actually ran: those prompt tokens plus each fed-back answer token (all of them when the
        // answer ended on an end-of-text token, all but the last when it ran out of tokens).
        let fedBack = responses.map { $0.usage.completionTokens - ($0.finishReason == .endOfText ? 0 : 1) }.reduce(0, +)
        #expect(model.computedTokens == computed + fedBack)
    }
    @Test("16 requests sharing a 2,000-token stable prefix compute ≤ 2,000 + Σ suffixes, bit-identical to cache off")
    func acceptanceWithStablePrefix() async throws {
        let loaded = try loadFixtureModel(try ModelFixture.named("qwen3next-a").modelPath)
        let prefix = 2000
        let prompts = Self.prompts(prefix: prefix, count: 16)
        let on = RecordingModel(loaded.model), off = RecordingModel(loaded.model)
        let tokenizer = loaded.tokenizer.tokenizer
        let responses = try await schedule(on, tokenizer: tokenizer, prompts: prompts, maxTokens: 3,
                                           limits: Self.limits(cacheBytes: 256 << 20), stablePrefix: prefix)
        let plain = try await schedule(off, tokenizer: tokenizer, prompts: prompts, maxTokens: 3,
                                       limits: Self.limits(cacheBytes: 0), stablePrefix: prefix)
        let suffixes = prompts.map { $0.count - prefix }.reduce(0, +)
        let computed = responses.map { $0.usage.promptTokens - $0.usage.cachedPromptTokens }.reduce(0, +)
        print("qwen3next, 16 requests × a 2,000-token stable prefix: computed \(computed) prompt tokens, bound "
              + "\(prefix + suffixes), without the cache \(prompts.map(\.count).reduce(0, +))")
        #expect(computed <= prefix + suffixes)
        #expect(responses.map(\.usage.cachedPromptTokens).sorted() == [0] + Array(repeating: prefix, count: 15))
        #expect(responses.map(\.text) == plain.map(\.text))
        #expect(Self.unmatched(on, off) == 0, "forward items of the cached run with no bit-identical twin")
    }

    /// Two requests sharing `shared` tokens, with stable prefixes `first` and `second`; how much the second should
    /// take from the cache when it runs after the first.
    struct MixedStablePrefixes: Sendable, CustomStringConvertible {
        var first: Int, second: Int, shared: Int, expected: Int
        var description: String { "stable \(first) then \(second), \(shared) shared" }
    }

    /// A snapshot at one request's stable prefix, or a block computed after it, holds the bits of chunks split
    /// there: a request with another stable prefix (or none) splits elsewhere, so it must not resume from them.
    @Test("a request resumes only where its own uncached run ends a chunk, whatever other stable prefixes left",
          arguments: [
              MixedStablePrefixes(first: 300, second: 0, shared: 360, expected: 256),
              MixedStablePrefixes(first: 288, second: 0, shared: 348, expected: 256),
              MixedStablePrefixes(first: 0, second: 300, shared: 560, expected: 256),
              MixedStablePrefixes(first: 300, second: 340, shared: 400, expected: 256),
              MixedStablePrefixes(first: 600, second: 300, shared: 700, expected: 256),
              MixedStablePrefixes(first: 300, second: 300, shared: 360, expected: 300),
          ])
    func mixedStablePrefixes(_ mix: MixedStablePrefixes) async throws {
        let loaded = try loadFixtureModel(try ModelFixture.named("qwen3next-a").modelPath)
        let shared = Qwen3NextPrefixCacheTests.tokens(mix.shared, seed: 21)
        let prompts = [shared + Qwen3NextPrefixCacheTests.tokens(20, seed: 40),
                       shared + Qwen3NextPrefixCacheTests.tokens(25, seed: 41)]
        let tokenizer = loaded.tokenizer.tokenizer
        for oneByOne in [true, false] {
            let on = RecordingModel(loaded.model), off = RecordingModel(loaded.model)
            let cached = try await schedule(on, tokenizer: tokenizer, prompts: prompts, maxTokens: 3,
                                            limits: Self.limits(cacheBytes: 64 << 20),
                                            stablePrefixes: [mix.first, mix.second], oneByOne: oneByOne)
            let plain = try await schedule(off, tokenizer: tokenizer, prompts: prompts, maxTokens: 3,
                                           limits: Self.limits(cacheBytes: 0),
                                           stablePrefixes: [mix.first, mix.second], oneByOne: oneByOne)
            if oneByOne { #expect(cached.map(\.usage.cachedPromptTokens) == [0, mix.expected]) }
            #expect(cached.map(\.text) == plain.map(\.text))
            #expect(Self.unmatched(on, off) == 0, "forward items with no bit-identical twin (one by one: \(oneByOne))")
        }
    }

    @Test("prompts sharing more than the stable prefix (into a page they do not fill alike) resume at its end")
    func sharedBeyondTheStablePrefix() async throws {
        let loaded = try loadFixtureModel(try ModelFixture.named("qwen3next-b").modelPath)
        // 300 stable tokens (9 pages and 12 tokens), then 40 more shared ones: pages up to 320 match whole,
        // the one after only in part, and the last resume point inside the shared part is the tail at 300.
        let prompts = Self.prompts(prefix: 300, count: 4, header: 40)
        let on = RecordingModel(loaded.model), off = RecordingModel(loaded.model)
        let tokenizer = loaded.tokenizer.tokenizer
        let cached = try await schedule(on, tokenizer: tokenizer, prompts: prompts, maxTokens: 3,
                                        limits: Self.limits(cacheBytes: 64 << 20), stablePrefix: 300)
        let plain = try await schedule(off, tokenizer: tokenizer, prompts: prompts, maxTokens: 3,
                                       limits: Self.limits(cacheBytes: 0), stablePrefix: 300)
        #expect(cached.map(\.usage.cachedPromptTokens).sorted() == [0, 300, 300, 300])
        #expect(cached.map(\.text) == plain.map(\.text))
        #expect(Self.unmatched(on, off) == 0, "forward items of the cached run with no bit-identical twin")
        // The split is the request's own: the cache-off run also ends a prefill chunk at 300.
        #expect(off.items.contains { $0.start == 256 && $0.tokens.count == 44 })
    }
}
