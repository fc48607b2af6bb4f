public import Foundation

/// How to reach an OpenAI-compatible server (vLLM, SGLang, llama.cpp's llama-server). The runner builds it from
/// the job spec's `model:` section (`url`, `name`, `api_key_env`, `timeout`, `context`, `parallel`).
public struct RemoteConfiguration: Sendable, Hashable {
    /// The server's base URL, with or without the `/v1` suffix (`http://127.0.0.1:8080` or `…/v1`).
    public var baseURL: URL
    /// The model name the server serves (`model` in each request).
    public var modelName: String
    /// The NAME of the environment variable holding the API key, or `nil` for servers without one. The key is sent
    /// as `Authorization: Bearer …` and never appears in logs or errors.
    public var apiKeyEnvironmentVariable: String?
    /// Tokens per sequence, as the spec's `model.context` says (the server enforces its own limit).
    public var contextLength: Int
    /// Requests in flight at most (`model.parallel`); further calls wait for a free slot.
    public var parallel: Int
    /// Time limits of one attempt.
    public var limits: TimeLimits
    /// When to try a request again.
    public var retry: RetryPolicy
    /// Stream answers as server-sent events (the default): a stalled server is noticed by the read limit instead
    /// of only by the overall one.
    public var streaming: Bool

    public init(
        baseURL: URL,
        modelName: String,
        apiKeyEnvironmentVariable: String? = nil,
        contextLength: Int = 16_384,
        parallel: Int = 4,
        limits: TimeLimits = TimeLimits(),
        retry: RetryPolicy = RetryPolicy(),
        streaming: Bool = true
    ) {
        self.baseURL = baseURL
        self.modelName = modelName
        self.apiKeyEnvironmentVariable = apiKeyEnvironmentVariable
        self.contextLength = contextLength
        self.parallel = parallel
        self.limits = limits
        self.retry = retry
        self.streaming = streaming
    }

    /// The configuration for a job spec's `model:` section (`url`, `name`, `api_key_env`, `timeout`, `context`,
    /// `parallel`), with the default connect and read limits and retry policy; `timeout` (seconds) bounds each
    /// attempt. Throws when a value is out of range.
    public init(
        url: String, name: String, apiKeyEnv: String?, timeout: Double?, context: Int, parallel: Int
    ) throws(RemoteError) {
        guard let baseURL = URL(string: url) else { throw .invalidBaseURL(url) }
        var limits = TimeLimits()
        if let timeout { limits.total = timeout }
        self.init(
            baseURL: baseURL, modelName: name, apiKeyEnvironmentVariable: apiKeyEnv, contextLength: context,
            parallel: parallel, limits: limits
        )
        try validate()
    }

    /// Checks the values a spec could get wrong.
    public func validate() throws(RemoteError) {
        guard let scheme = baseURL.scheme?.lowercased(), scheme == "http" || scheme == "https",
              baseURL.host?.isEmpty == false
        else { throw .invalidBaseURL(baseURL.absoluteString) }
        if modelName.isEmpty { throw .invalidSetting(field: "model.name", reason: "expected a model name, got ''") }
        if parallel < 1 { throw .invalidSetting(field: "model.parallel", reason: "expected at least 1, got \(parallel)") }
        if contextLength < 1 {
            throw .invalidSetting(field: "model.context", reason: "expected at least 1, got \(contextLength)")
        }
        for (field, value) in [("limits.connect", limits.connect), ("limits.read", limits.read), ("model.timeout", limits.total)]
        where !(value > 0 && value.isFinite) {
            throw .invalidSetting(field: field, reason: "expected a positive number of seconds, got \(value)")
        }
        if retry.maxAttempts < 1 {
            throw .invalidSetting(field: "retry.maxAttempts", reason: "expected at least 1, got \(retry.maxAttempts)")
        }
    }

    /// `baseURL` + `/v1/<endpoint>`, whether or not the base URL already ends in `/v1`.
    func endpoint(_ name: String) -> URL {
        var base = baseURL.absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        if !base.hasSuffix("/v1") { base += "/v1" }
        return URL(string: base + "/" + name) ?? baseURL
    }
}

/// Time limits of one HTTP attempt, in seconds. Each limit that runs out ends the attempt, which is then retried
/// like a dropped connection.
public struct TimeLimits: Sendable, Hashable {
    /// Until the response head (status line and headers) arrives, for streamed requests: servers send it as soon as
    /// they start on a request, so this bounds connecting and the server's queue. A non-streamed answer's head
    /// comes with the whole answer, so there only `total` applies.
    public var connect: Double
    /// The longest silence between two pieces of a streamed answer once its head has arrived.
    public var read: Double
    /// The whole attempt, from sending the request to the last byte (`model.timeout`).
    public var total: Double

    public init(connect: Double = 30, read: Double = 60, total: Double = 600) {
        self.connect = connect
        self.read = read
        self.total = total
    }
}

/// Which failures are tried again, and how long to wait. A retry sends the same bytes (same request, same seed).
public struct RetryPolicy: Sendable, Hashable {
    /// Attempts in all, the first one included (1 = no retry).
    public var maxAttempts: Int
    /// Wait before the second attempt; doubled for each further attempt.
    public var baseDelay: Double
    /// The longest wait between attempts, also the cap on a server's `Retry-After`.
    public var maxDelay: Double

    public init(maxAttempts: Int = 4, baseDelay: Double = 0.5, maxDelay: Double = 30) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// The wait before attempt `attempt + 1` (attempts count from 1): the server's `Retry-After` when it sent one,
    /// else exponential backoff; both capped at `maxDelay`.
    public func delay(afterAttempt attempt: Int, retryAfter: Double?) -> Double {
        if let retryAfter { return min(max(retryAfter, 0), maxDelay) }
        let exponent = Double(max(attempt - 1, 0))
        return min(baseDelay * pow(2, exponent), maxDelay)
    }
}
