import Foundation
@testable import Remote
import Generation
import Testing

/// Against a real OpenAI-compatible server (llama.cpp's llama-server with the SmolLM2 GGUF), started by
/// `Scripts/integration/remote-llama-server`, which sets `SPARROW_REMOTE_URL` and `SPARROW_REMOTE_MODEL`. Without
/// that variable the suite is reported as skipped (it is part of `make integration`, not of `make test`).
@Suite(
    "Remote client against a live server",
    .enabled(if: LiveServer.url != nil, "needs SPARROW_REMOTE_URL: run Scripts/integration/remote-llama-server")
)
struct LiveServerTests {
    private func client(streaming: Bool = true, parallel: Int = 2) throws -> RemoteClient {
        let url = try #require(LiveServer.url)
        let configuration = RemoteConfiguration(
            baseURL: url, modelName: LiveServer.model, contextLength: 2048, parallel: parallel,
            limits: TimeLimits(connect: 60, read: 60, total: 300), streaming: streaming
        )
        return try RemoteClient(configuration: configuration)
    }

    private func ask(_ text: String, id: String, maxTokens: Int = 24, constraint: ResponseConstraint? = nil) -> GenerationRequest {
        GenerationRequest(
            id: id,
            prompt: .chat([ChatMessage(role: .system, content: "You are a terse assistant."), ChatMessage(role: .user, content: text)]),
            maxTokens: maxTokens, sampling: .greedy, constraint: constraint
        )
    }

    @Test("Streamed and whole greedy answers agree, and usage comes from the server")
    func streamedEqualsWhole() async throws {
        let request = ask("Name three colours.", id: "live-1")
        let streamed = try await client(streaming: true).generate(request)
        let whole = try await client(streaming: false).generate(request)
        #expect(!streamed.text.isEmpty)
        #expect(streamed.text == whole.text)
        #expect(streamed.usage.promptTokens > 0 && streamed.usage.promptTokens == whole.usage.promptTokens)
        #expect((1...24).contains(streamed.usage.completionTokens))
    }

    @Test("max_tokens reached reads as .length")
    func lengthLimit() async throws {
        let response = try await client().generate(ask("Write a long story about a lighthouse.", id: "live-2", maxTokens: 4))
        #expect(response.finishReason == .length)
        #expect(response.usage.completionTokens == 4)
    }

    @Test("Text prompts through /v1/completions")
    func textCompletion() async throws {
        let request = GenerationRequest(id: "live-3", prompt: .text("The capital of France is"), maxTokens: 8)
        let response = try await client().generate(request)
        #expect(!response.text.isEmpty)
        #expect(response.usage.completionTokens > 0)
    }

    @Test("response_format json_schema: the answer parses and fits the schema")
    func structuredAnswer() async throws {
        let schema = JSONValue.object([
            .init("type", .string("object")),
            .init("properties", .object([
                .init("severity", .object([.init("type", .string("string")), .init("enum", .array([.string("error"), .string("warning"), .string("note")]))])),
                .init("line", .object([.init("type", .string("integer"))])),
            ])),
            .init("required", .array([.string("severity"), .string("line")])),
            .init("additionalProperties", .bool(false)),
        ])
        let response = try await client().generate(ask(
            "Report one finding for line 3 of a file that divides by zero, as JSON.", id: "live-4", maxTokens: 64,
            constraint: .jsonSchema(name: "finding", schema: schema)
        ))
        let value = try StrictJSONParser.parse(response.text)
        #expect(SchemaCheck.violation(of: schema, by: value) == nil)
    }

    @Test("Concurrent requests each get their own answer (the same as alone, greedy)")
    func concurrent() async throws {
        let client = try client(parallel: 2)
        let prompts = ["Say one.", "Say two.", "Say three.", "Say four."]
        var alone: [String] = []
        for (index, prompt) in prompts.enumerated() {
            alone.append(try await client.generate(ask(prompt, id: "alone-\(index)", maxTokens: 8)).text)
        }
        let together = try await withThrowingTaskGroup(of: (Int, String).self) { group in
            for (index, prompt) in prompts.enumerated() {
                group.addTask { (index, try await client.generate(self.ask(prompt, id: "together-\(index)", maxTokens: 8)).text) }
            }
            var texts = Array(repeating: "", count: prompts.count)
            for try await (index, text) in group { texts[index] = text }
            return texts
        }
        // llama.cpp does not promise batch invariance (DESIGN.md §6), so equality is reported, not required.
        let same = zip(alone, together).filter { $0 == $1 }.count
        print("live concurrent: \(same) of \(prompts.count) answers identical alone and together")
        #expect(together.allSatisfy { !$0.isEmpty })
    }
}

enum LiveServer {
    static var url: URL? {
        ProcessInfo.processInfo.environment["SPARROW_REMOTE_URL"].flatMap { URL(string: $0) }
    }

    static var model: String { ProcessInfo.processInfo.environment["SPARROW_REMOTE_MODEL"] ?? "SmolLM2" }
}
