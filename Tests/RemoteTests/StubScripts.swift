import Foundation
@testable import Remote
import Generation
import TestSupport

/// Answers in the shapes of the OpenAI API reference (see Fixtures/README.md), so tests read like the wire.
enum Wire {
    /// One streamed chat chunk carrying `content`.
    static func chunk(_ content: String, finish: String? = nil) -> String {
        let reason = finish.map { "\"\($0)\"" } ?? "null"
        let escaped = JSONValue.string(content).jsonText ?? "\"\""
        return #"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1694268190,"model":"m","choices":[{"index":0,"delta":{"content":"#
            + escaped + #"},"logprobs":null,"finish_reason":"# + reason + "}]}"
    }

    /// The usage chunk a server sends last when asked for `stream_options.include_usage`.
    static func usageChunk(prompt: Int, completion: Int, cached: Int = 0) -> String {
        #"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1694268190,"model":"m","choices":[],"usage":{"prompt_tokens":\#(prompt),"completion_tokens":\#(completion),"total_tokens":\#(prompt + completion),"prompt_tokens_details":{"cached_tokens":\#(cached)}}}"#
    }

    /// A whole streamed answer: role chunk, one chunk per piece, finish, usage, `[DONE]`.
    static func stream(_ pieces: [String], finish: String = "stop", prompt: Int = 5) -> [HTTPStubAction] {
        var actions: [HTTPStubAction] = [.eventStreamHead(), .event(
            #"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1694268190,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}"#
        )]
        for piece in pieces { actions.append(.event(chunk(piece))) }
        actions.append(.event(#"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1694268190,"model":"m","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"\#(finish)"}]}"#))
        actions.append(.event(usageChunk(prompt: prompt, completion: pieces.count)))
        actions.append(.event("[DONE]"))
        actions.append(.close)
        return actions
    }

    /// A whole non-streamed chat completion.
    static func completion(_ content: String, finish: String = "stop", prompt: Int = 5, completion: Int = 3) -> [HTTPStubAction] {
        let escaped = JSONValue.string(content).jsonText ?? "\"\""
        let body = #"{"id":"chatcmpl-1","object":"chat.completion","created":1741569952,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"#
            + escaped + #","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":""# + finish
            + #""}],"usage":{"prompt_tokens":\#(prompt),"completion_tokens":\#(completion),"total_tokens":\#(prompt + completion),"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0}}}"#
        return HTTPStubAction.response(status: 200, body: body)
    }
}

/// Records the waits a client asks for between attempts instead of sleeping them (no timing in tests).
final class DelayRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [Double] = []

    var delays: [Double] {
        lock.lock()
        defer { lock.unlock() }
        return recorded
    }

    func record(_ seconds: Double) {
        lock.lock()
        recorded.append(seconds)
        lock.unlock()
    }
}

extension RemoteClient {
    /// A client of `stub` whose waits between attempts are recorded by `recorder`, not slept.
    static func forTesting(
        _ stub: HTTPStub,
        recorder: DelayRecorder = DelayRecorder(),
        parallel: Int = 2,
        limits: TimeLimits = TimeLimits(connect: 5, read: 5, total: 20),
        retry: RetryPolicy = RetryPolicy(maxAttempts: 3, baseDelay: 0.25, maxDelay: 30),
        streaming: Bool = true,
        apiKeyVariable: String? = nil,
        environment: [String: String] = [:],
        onRetry: (@Sendable (RetryNotice) -> Void)? = nil
    ) throws -> RemoteClient {
        let configuration = RemoteConfiguration(
            baseURL: stub.baseURL, modelName: "test-model", apiKeyEnvironmentVariable: apiKeyVariable,
            contextLength: 4096, parallel: parallel, limits: limits, retry: retry, streaming: streaming
        )
        return try RemoteClient(configuration: configuration, environment: environment, onRetry: onRetry) { seconds in
            recorder.record(seconds)
        }
    }
}

/// A chat request whose user message is `text`.
func chatRequest(_ id: String, _ text: String = "hello", maxTokens: Int = 64, constraint: ResponseConstraint? = nil) -> GenerationRequest {
    GenerationRequest(
        id: id, prompt: .chat([ChatMessage(role: .user, content: text)]), maxTokens: maxTokens,
        sampling: SamplingParameters(seed: 42), constraint: constraint
    )
}

/// Calls `generate` and returns its typed error, or `nil` when it succeeded.
func generationError(_ client: RemoteClient, _ request: GenerationRequest) async -> GenerationError? {
    do {
        _ = try await client.generate(request)
        return nil
    } catch {
        return error
    }
}
