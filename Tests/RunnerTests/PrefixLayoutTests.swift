import Foundation
import Generation
import Runner
import TestSupport
import Testing

/// Review prompts are laid out as a stable prefix (system: instructions, schema, pull-request text) followed by the
/// chunk, so the engine's prefix cache computes the prefix once per run; run-info.json shows prompt tokens
/// computed vs cached.
@Suite struct PrefixLayoutTests {
    /// Delegates to a scripted generator and reports, like the engine's prefix cache would, every request after
    /// the first as having its system message's tokens cached.
    final class CachingGenerator: TextGenerating, @unchecked Sendable {
        let inner: ScriptedGenerator
        private let lock = NSLock()
        private var seen = Set<String>()
        var model: ModelDescription { inner.model }

        init(_ inner: ScriptedGenerator) { self.inner = inner }

        func countTokens(_ prompt: Prompt) async -> Int { await inner.countTokens(prompt) }

        func generate(_ request: GenerationRequest) async throws(GenerationError) -> GenerationResponse {
            var response = try await inner.generate(request)
            guard case let .chat(messages) = request.prompt, let system = messages.first?.content else { return response }
            let hit = lock.withLock { !seen.insert(system).inserted }
            if hit { response.usage.cachedPromptTokens = PromptSizeEstimate.tokens(.text(system)) }
            return response
        }
    }

    static func bigChange(_ fixture: RunnerFixture) throws {
        try fixture.repository.commit([.file("README.md", "hello\n")], message: "base")
        let big = (1...3000).map { "let value\($0) = compute(\($0))" }.joined(separator: "\n") + "\n"
        try fixture.repository.commit([.file("README.md", "hello\n"), .file("Big.swift", big)], message: "head")
    }

    @Test func everyChunkSharesTheSameSystemPrefixAndDiffersOnlyAfterIt() async throws {
        let fixture = try RunnerFixture()
        defer { fixture.remove() }
        try Self.bigChange(fixture)
        let spec = try fixture.spec("tasks:\n  - {id: big, kind: review, base: main~1, head: main, max_tokens: 256}\noutputs: {formats: [sarif], fail_on: never}\n")
        let scripted = ScriptedGenerator(contextLength: 2048) { _ in "{\"findings\": []}" }
        let result = try await fixture.run(fixture.options(spec), generator: CachingGenerator(scripted))
        #expect(result.exitCode == 0)
        let requests = scripted.requests
        #expect(requests.count > 3)
        var systems = Set<String>()
        var chunks = Set<String>()
        for request in requests {
            guard case let .chat(messages) = request.prompt else {
                Issue.record("expected a chat prompt")
                continue
            }
            #expect(messages.map(\.role) == [.system, .user], "stable prefix first, the chunk last")
            systems.insert(messages[0].content)
            chunks.insert(messages[1].content)
        }
        #expect(systems.count == 1, "one stable prefix for every chunk of the run")
        #expect(chunks.count == requests.count)
    }

    @Test func runInfoCountsComputedAndCachedPromptTokens() async throws {
        let fixture = try RunnerFixture()
        defer { fixture.remove() }
        try Self.bigChange(fixture)
        let spec = try fixture.spec("tasks:\n  - {id: big, kind: review, base: main~1, head: main, max_tokens: 256}\noutputs: {formats: [sarif], fail_on: never}\n")
        let scripted = ScriptedGenerator(contextLength: 2048) { _ in "{\"findings\": []}" }
        _ = try await fixture.run(fixture.options(spec), generator: CachingGenerator(scripted))
        let data = try #require(fixture.output("out", "run-info.json"))
        let info = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let totals = try #require(info["prompt_tokens"] as? [String: Int])
        let task = try #require((info["tasks"] as? [[String: Any]])?.first)
        let prompt = try #require(task["prompt_tokens"] as? Int)
        let cached = try #require(task["cached_prompt_tokens"] as? Int)
        #expect(cached > 0)
        #expect(totals["cached"] == cached)
        #expect(totals["computed"] == prompt - cached)

        var expectedCached = 0
        var firstSystem: String?
        for request in scripted.requests {
            guard case let .chat(messages) = request.prompt, let system = messages.first?.content else { continue }
            if firstSystem == nil { firstSystem = system } else { expectedCached += PromptSizeEstimate.tokens(.text(system)) }
        }
        #expect(cached == expectedCached)
        let journal = try #require(fixture.output("out", "results.jsonl"))
        let entry = try JSONDecoder().decode(JournalEntry.self, from: journal.split(separator: UInt8(ascii: "\n"))[0])
        #expect(entry.usage.cachedPromptTokens == cached)
    }
}
