import Foundation
@testable import Remote
import Generation
import TestSupport
import Testing

@Suite("Remote client behaviour against a loopback stub")
struct ClientBehaviourTests {
    @Test("Concurrent requests: at most `parallel` in flight, and each caller gets exactly its own answer")
    func concurrentRequestsOwnAnswers() async throws {
        let parallel = 3
        let barrier = Barrier(count: parallel)
        let seen = RequestCounter()
        let stub = try HTTPStub { request in
            seen.increment()
            // The first `parallel` requests wait (at most 10 s) until all of them are in flight together, then hold
            // their slots a little longer (at most 0.5 s), so that a request past the limit would be seen in flight.
            if request.index < parallel {
                barrier.arriveAndWait(timeout: 10)
                for _ in 0..<50 where seen.value <= parallel { Thread.sleep(forTimeInterval: 0.01) }
            }
            let messages = request.jsonBody?["messages"] as? [[String: Any]]
            let prompt = messages?.last?["content"] as? String ?? "?"
            return Wire.stream(["echo:", prompt])
        }
        defer { stub.stop() }
        // Generous time limits: this test is about concurrency, and in the full suite on 2 cores a starved
        // cooperative pool can delay the first requests past the default 5 s, which then retries and sends more.
        let client = try RemoteClient.forTesting(stub, parallel: parallel,
                                                 limits: TimeLimits(connect: 60, read: 60, total: 120))
        let ids = (0..<12).map { "task-\($0)" }
        let answers = try await withThrowingTaskGroup(of: (String, GenerationResponse).self) { group in
            for id in ids { group.addTask { (id, try await client.generate(chatRequest(id, "prompt of \(id)"))) } }
            var collected: [String: GenerationResponse] = [:]
            for try await (id, response) in group { collected[id] = response }
            return collected
        }
        #expect(answers.count == ids.count)
        for id in ids {
            #expect(answers[id]?.text == "echo:prompt of \(id)")
            #expect(answers[id]?.requestID == id)
        }
        #expect(barrier.released, "the first \(parallel) requests were never in flight together")
        #expect(stub.maxConcurrentRequests == parallel)
        #expect(stub.requests.count == ids.count)
    }

    @Test("The API key goes only into the Authorization header, never into errors or descriptions")
    func apiKeyNeverLeaks() async throws {
        let secret = "sk-test-\(UUID().uuidString)"
        let stub = try HTTPStub { request in
            let sent = request.headers["authorization"] ?? ""
            return HTTPStubAction.response(status: 401, body: #"{"error":{"message":"invalid key: \#(sent)"}}"#)
        }
        defer { stub.stop() }
        let client = try RemoteClient.forTesting(stub, apiKeyVariable: "SPARROW_TEST_KEY", environment: ["SPARROW_TEST_KEY": secret])
        let error = await generationError(client, chatRequest("auth"))
        #expect(stub.requests.first?.headers["authorization"] == "Bearer \(secret)")
        let text = String(describing: error)
        #expect(!text.contains(secret))
        #expect(text.contains("[redacted]") && text.contains("HTTP 401") && text.contains("model.api_key_env"))
        #expect(!String(describing: client.configuration).contains(secret))
        var dumped = ""
        dump(client, to: &dumped)
        #expect(!dumped.contains(secret))
        #expect(!stub.requests.contains { $0.body.range(of: Data(secret.utf8)) != nil })
    }

    @Test("A named API key variable that is not set is a configuration error naming the variable")
    func missingAPIKey() throws {
        let configuration = RemoteConfiguration(
            baseURL: URL(fileURLWithPath: "/").deletingLastPathComponent(), modelName: "m", apiKeyEnvironmentVariable: "NOPE_KEY"
        )
        var fixed = configuration
        fixed.baseURL = URL(string: "http://127.0.0.1:9") ?? fixed.baseURL
        #expect(throws: RemoteError.missingAPIKey(variable: "NOPE_KEY")) {
            _ = try RemoteClient(configuration: fixed, environment: ["OTHER": "x"])
        }
        #expect(throws: RemoteError.invalidBaseURL(configuration.baseURL.absoluteString)) {
            _ = try RemoteClient(configuration: configuration, environment: ["NOPE_KEY": "x"])
        }
    }

    @Test("A server that ignores response_format: one repair request, then the corrected answer")
    func repairOnce() async throws {
        let stub = try HTTPStub { request in
            request.index == 0 ? Wire.stream([#"Sure! {"severity": "high"}"#]) : Wire.stream([#"{"severity":"error","line":3}"#], prompt: 40)
        }
        defer { stub.stop() }
        let client = try RemoteClient.forTesting(stub)
        let response = try await client.generate(chatRequest("json-1", constraint: .jsonSchema(name: "finding", schema: findingSchema)))
        #expect(response.text == #"{"severity":"error","line":3}"#)
        #expect(response.usage.promptTokens == 45)
        let requests = stub.requests
        #expect(requests.count == 2)
        let format = requests.first?.jsonBody?["response_format"] as? [String: Any]
        #expect(format?["type"] as? String == "json_schema")
        #expect((format?["json_schema"] as? [String: Any])?["name"] as? String == "finding")
        let repair = requests.last?.jsonBody?["messages"] as? [[String: Any]]
        #expect(repair?.count == 3)
        #expect(repair?[1]["role"] as? String == "assistant")
        #expect(repair?[1]["content"] as? String == #"Sure! {"severity": "high"}"#)
        #expect((repair?[2]["content"] as? String)?.contains("not one JSON document") == true)
    }

    @Test("Still wrong after the repair: constraintViolated naming the request and the problem")
    func repairFails() async throws {
        let stub = try HTTPStub { _ in Wire.stream([#"{"severity":"fatal","line":3}"#]) }
        defer { stub.stop() }
        let client = try RemoteClient.forTesting(stub)
        let error = await generationError(client, chatRequest("json-2", constraint: .jsonSchema(name: "finding", schema: findingSchema)))
        guard case let .constraintViolated(id, reason)? = error else {
            Issue.record("expected .constraintViolated, got \(String(describing: error))")
            return
        }
        #expect(id == "json-2")
        #expect(reason.contains("at $.severity: expected one of"))
        #expect(stub.requests.count == 2)
    }

    @Test("Streamed: text joined from chunks, usage (with cached prompt tokens) and finish reason from the server")
    func streamedUsage() async throws {
        let stub = try HTTPStub { _ in
            [.eventStreamHead(), .event(Wire.chunk("Hel")), .event(Wire.chunk("lo")), .event(Wire.chunk("", finish: "length")),
             .event(Wire.usageChunk(prompt: 11, completion: 2, cached: 8)), .event("[DONE]"), .close]
        }
        defer { stub.stop() }
        let client = try RemoteClient.forTesting(stub)
        let response = try await client.generate(chatRequest("usage"))
        #expect(response.text == "Hello")
        #expect(response.finishReason == .length)
        #expect(response.usage == TokenUsage(promptTokens: 11, cachedPromptTokens: 8, completionTokens: 2))
        let body = stub.requests.first?.jsonBody
        #expect(body?["stream"] as? Bool == true)
        #expect((body?["stream_options"] as? [String: Any])?["include_usage"] as? Bool == true)
    }

    @Test("Not streamed: the whole chat.completion object")
    func wholeCompletion() async throws {
        let stub = try HTTPStub { _ in Wire.completion("done", prompt: 9, completion: 1) }
        defer { stub.stop() }
        let client = try RemoteClient.forTesting(stub, streaming: false)
        let response = try await client.generate(chatRequest("whole"))
        #expect(response.text == "done" && response.finishReason == .endOfText)
        #expect(response.usage == TokenUsage(promptTokens: 9, completionTokens: 1))
        #expect(stub.requests.first?.jsonBody?["stream"] as? Bool == false)
    }

    @Test("Text prompts go to /v1/completions with `prompt`; sampling, seed and stop are sent")
    func textPromptEndpoint() async throws {
        let stub = try HTTPStub { _ in
            HTTPStubAction.response(status: 200, body: #"{"id":"cmpl-1","object":"text_completion","created":1,"model":"m","choices":[{"text":" world","index":0,"logprobs":null,"finish_reason":"stop","stop_reason":"\n\n"}],"usage":{"prompt_tokens":2,"completion_tokens":1,"total_tokens":3}}"#)
        }
        defer { stub.stop() }
        let client = try RemoteClient.forTesting(stub, streaming: false)
        let request = GenerationRequest(
            id: "text", prompt: .text("hello"), maxTokens: 16,
            sampling: SamplingParameters(temperature: 0.7, topP: 0.9, topK: 20, minP: 0.05, seed: 1234), stop: ["\n\n"]
        )
        let response = try await client.generate(request)
        #expect(response.text == " world" && response.finishReason == .stopString)
        let sent = stub.requests.first
        #expect(sent?.path == "/v1/completions" && sent?.method == "POST")
        let body = sent?.jsonBody
        #expect(body?["prompt"] as? String == "hello" && body?["model"] as? String == "test-model")
        #expect(body?["max_tokens"] as? Int == 16 && body?["seed"] as? Int == 1234 && body?["top_k"] as? Int == 20)
        #expect(body?["temperature"] as? Double == 0.7 && body?["top_p"] as? Double == 0.9 && body?["min_p"] as? Double == 0.05)
        #expect(body?["stop"] as? [String] == ["\n\n"])
    }
}

/// The shape of a review finding, as the runner will constrain it.
let findingSchema: JSONValue = .object([
    .init("type", .string("object")),
    .init("properties", .object([
        .init("severity", .object([.init("type", .string("string")), .init("enum", .array([.string("error"), .string("warning"), .string("note")]))])),
        .init("line", .object([.init("type", .string("integer"))])),
    ])),
    .init("required", .array([.string("severity"), .string("line")])),
    .init("additionalProperties", .bool(false)),
])

/// Counts requests as the stub's handler sees them.
final class RequestCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    var value: Int {
        lock.lock()
        defer { lock.unlock() }
        return count
    }

    func increment() {
        lock.lock()
        count += 1
        lock.unlock()
    }
}

/// Lets `count` threads wait for each other, each for at most `timeout` seconds.
final class Barrier: @unchecked Sendable {
    private let condition = NSCondition()
    private let count: Int
    private var arrived = 0
    private(set) var released = false

    init(count: Int) { self.count = count }

    func arriveAndWait(timeout: Double) {
        condition.lock()
        defer { condition.unlock() }
        arrived += 1
        if arrived >= count {
            released = true
            condition.broadcast()
            return
        }
        let deadline = Date().addingTimeInterval(timeout)
        while !released, condition.wait(until: deadline) {}
    }
}

@Suite("Request bodies")
struct RequestBodyTests {
    @Test("Seeds up to Int64.max are written as exact integers; larger ones are an invalid request")
    func exactSeed() throws {
        let big: UInt64 = (1 << 60) + 1
        var request = chatRequest("seed")
        request.sampling.seed = big
        let body = try RequestBody(request: request, model: "m", streaming: false)
        #expect(body.json.hasSuffix(",\"seed\":1152921504606846977}"))
        let parsed = try StrictJSONParser.parse(body.json)
        #expect(parsed["model"] == .string("m") && parsed["stream"] == .bool(false))
        request.sampling.seed = UInt64(Int64.max) + 1
        #expect(throws: GenerationError.self) { try RequestBody(request: request, model: "m", streaming: false) }
    }
}
