public import Foundation
public import Generation

/// `TextGenerating` over an OpenAI-compatible HTTP server (vLLM, SGLang, llama.cpp's llama-server):
/// `/v1/chat/completions` for chat prompts and `/v1/completions` for text prompts, streamed or not.
///
/// - At most `configuration.parallel` requests are in flight; further calls wait (cancellable) for a slot.
/// - Each attempt has connect, read and total time limits (`TimeLimits`).
/// - 408, 429 (honouring `Retry-After`), 5xx, time limits and dropped connections are retried with backoff, up to
///   `retry.maxAttempts` attempts, each sending the same bytes (same request, same seed).
/// - With a `jsonSchema` constraint the server gets `response_format`; the answer is parsed strictly and checked
///   against the schema; when it fails (a server that ignores `response_format`), one repair request shows the
///   model its answer and the problem; if that fails too, the call throws `constraintViolated`.
/// - The API key comes from the environment variable the configuration names; it is sent only in the
///   `Authorization` header and is never part of a description, a log line or an error.
public final class RemoteClient: TextGenerating {
    public let model: ModelDescription
    public let configuration: RemoteConfiguration

    private let apiKey: APIKey?
    private let limiter: ConcurrencyLimiter
    private let streamer: HTTPStreamer
    /// Waits between attempts; tests replace it to record the delays instead of sleeping.
    private let sleep: @Sendable (Double) async throws -> Void
    private let onRetry: (@Sendable (RetryNotice) -> Void)?

    /// Creates a client. `environment` is where the API key variable is looked up (the process environment by
    /// default); `onRetry` hears of each failed attempt that will be retried (for progress lines on stderr).
    public convenience init(
        configuration: RemoteConfiguration,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        onRetry: (@Sendable (RetryNotice) -> Void)? = nil
    ) throws(RemoteError) {
        try self.init(configuration: configuration, environment: environment, onRetry: onRetry) { seconds in
            try await Task.sleep(for: .seconds(seconds))
        }
    }

    init(
        configuration: RemoteConfiguration,
        environment: [String: String],
        onRetry: (@Sendable (RetryNotice) -> Void)? = nil,
        sleep: @escaping @Sendable (Double) async throws -> Void
    ) throws(RemoteError) {
        self.onRetry = onRetry
        try configuration.validate()
        if let variable = configuration.apiKeyEnvironmentVariable {
            guard let value = environment[variable], !value.isEmpty else { throw .missingAPIKey(variable: variable) }
            apiKey = APIKey(value)
        } else {
            apiKey = nil
        }
        self.configuration = configuration
        self.sleep = sleep
        limiter = ConcurrencyLimiter(limit: configuration.parallel)
        // Twice the slots, so a connection still closing never holds up the next request: the limiter is the cap.
        streamer = HTTPStreamer(maxConnections: 2 * configuration.parallel)
        model = ModelDescription(
            name: configuration.modelName,
            contextLength: configuration.contextLength,
            identity: "\(configuration.endpoint("").absoluteString)#\(configuration.modelName)"
        )
    }

    deinit { streamer.invalidate() }

    public func generate(_ request: GenerationRequest) async throws(GenerationError) -> GenerationResponse {
        do {
            return try await limiter.withSlot { try await self.answer(request) }
        } catch let error as GenerationError {
            throw error
        } catch {
            throw .cancelled(requestID: request.id)
        }
    }

    private func answer(_ request: GenerationRequest) async throws(GenerationError) -> GenerationResponse {
        let first = try await perform(request, body: RequestBody(
            request: request, model: configuration.modelName, streaming: configuration.streaming))
        guard case let .jsonSchema(name, schema)? = request.constraint,
              let problem = Self.problem(with: first.text, schema: schema)
        else { return response(request, first, usage: first.usage) }

        let repair = RequestBody.Repair(rejectedAnswer: first.text, problem: problem)
        let second = try await perform(request, body: RequestBody(
            request: request, model: configuration.modelName, streaming: configuration.streaming, repair: repair))
        if let again = Self.problem(with: second.text, schema: schema) {
            throw .constraintViolated(
                requestID: request.id,
                reason: "schema '\(name)': \(again) (the first answer had: \(problem); one repair attempt was made)"
            )
        }
        return response(request, second, usage: first.usage + second.usage)
    }

    private func response(_ request: GenerationRequest, _ result: AttemptResult, usage: TokenUsage) -> GenerationResponse {
        GenerationResponse(requestID: request.id, text: result.text, finishReason: result.finishReason, usage: usage)
    }

    /// What is wrong with `text` as an answer to `schema`, or `nil`.
    static func problem(with text: String, schema: JSONValue) -> String? {
        do {
            let value = try StrictJSONParser.parse(text)
            return SchemaCheck.violation(of: schema, by: value)
        } catch {
            return "the answer is not one JSON document (\(error))"
        }
    }

    /// Sends `body` until an attempt succeeds, a failure is not retryable, or the attempts run out.
    private func perform(_ request: GenerationRequest, body: RequestBody) async throws(GenerationError) -> AttemptResult {
        let url = configuration.endpoint(body.endpoint)
        let attempt = Attempt(
            streamer: streamer, url: url, body: body, apiKey: apiKey,
            limits: configuration.limits, streaming: configuration.streaming, request: request
        )
        let maxAttempts = configuration.retry.maxAttempts
        var number = 1
        while true {
            if Task.isCancelled { throw .cancelled(requestID: request.id) }
            do {
                return try await attempt.run()
            } catch {
                if Task.isCancelled { throw .cancelled(requestID: request.id) }
                guard error.isRetryable, number < maxAttempts else {
                    throw Self.generationError(error, request: request, url: url, attempts: number)
                }
                let delay = configuration.retry.delay(afterAttempt: number, retryAfter: error.retryAfter)
                onRetry?(RetryNotice(
                    requestID: request.id, failedAttempt: number, maxAttempts: maxAttempts, delay: delay,
                    reason: "POST \(url.absoluteString): \(error.summary)"
                ))
                do {
                    try await sleep(delay)
                } catch {
                    throw .cancelled(requestID: request.id)
                }
                number += 1
            }
        }
    }

    static func generationError(_ failure: AttemptFailure, request: GenerationRequest, url: URL, attempts: Int) -> GenerationError {
        let tries = attempts == 1 ? "1 attempt" : "\(attempts) attempts"
        let reason = "POST \(url.absoluteString) failed after \(tries): \(failure.summary)"
        switch failure.kind {
        case let .status(code, _) where code == 400 || code == 404 || code == 413 || code == 422:
            return .invalidRequest(requestID: request.id, reason: reason)
        case let .status(code, _) where code == 401 || code == 403:
            return .backend(requestID: request.id, reason: reason + " (check the API key variable named by model.api_key_env)")
        default:
            return .backend(requestID: request.id, reason: reason)
        }
    }
}

/// A failed attempt that the client will retry.
public struct RetryNotice: Sendable, Hashable, CustomStringConvertible {
    public var requestID: String
    /// The attempt that failed, counting from 1.
    public var failedAttempt: Int
    public var maxAttempts: Int
    /// Seconds before the next attempt.
    public var delay: Double
    /// What went wrong (the API key never appears in it).
    public var reason: String

    public var description: String {
        "request \(requestID): attempt \(failedAttempt) of \(maxAttempts) failed (\(reason)); retrying in \(delay) s"
    }
}
