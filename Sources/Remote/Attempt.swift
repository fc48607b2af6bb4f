internal import Foundation
#if canImport(FoundationNetworking)
internal import FoundationNetworking
#endif
import Generation

/// Why one attempt failed, and whether sending the same request again may succeed.
struct AttemptFailure: Error, Sendable {
    enum Kind: Sendable {
        /// The server answered with an HTTP error status; `body` is an excerpt (key redacted).
        case status(Int, body: String)
        case timedOut(limit: String, seconds: Double)
        case connection(String)
        /// The stream ended before the answer did.
        case incomplete(String)
        /// The server sent something that is not an OpenAI-compatible answer.
        case malformed(String)
        /// The server reported an error inside a 200 answer.
        case serverError(String)
    }

    var kind: Kind
    /// Seconds the server asked us to wait (`Retry-After`).
    var retryAfter: Double? = nil

    /// 408, 429, 5xx other than 501, time limits, dropped or refused connections and cut streams are worth
    /// another try; anything that says the request or the answer's format is wrong is not.
    var isRetryable: Bool {
        switch kind {
        case let .status(code, _): code == 408 || code == 429 || (code >= 500 && code != 501)
        case .timedOut, .connection, .incomplete: true
        case .malformed, .serverError: false
        }
    }

    var summary: String {
        switch kind {
        case let .status(code, body): "HTTP \(code)" + (body.isEmpty ? "" : ": \(body)")
        case let .timedOut(limit, seconds): "no answer within the \(limit) time limit of \(seconds) s"
        case let .connection(what): what
        case let .incomplete(what): what
        case let .malformed(what): "malformed answer: \(what)"
        case let .serverError(message): "the server reported an error: \(message)"
        }
    }
}

/// The text, finish reason and usage of one successful attempt.
struct AttemptResult: Sendable {
    var text: String
    var finishReason: FinishReason
    var usage: TokenUsage
}

/// One HTTP exchange for one request body: sends it, reads the streamed or whole answer, and reports either the
/// answer or an `AttemptFailure`. It never retries; the client does.
struct Attempt {
    /// Largest non-streamed body or error body read (bytes).
    static let maxBodyBytes = 16 << 20
    /// Largest excerpt of an error body kept in a message (characters).
    static let excerptLength = 300

    var streamer: HTTPStreamer
    var url: URL
    var body: RequestBody
    var apiKey: APIKey?
    var limits: TimeLimits
    var streaming: Bool
    var request: GenerationRequest

    func run() async throws(AttemptFailure) -> AttemptResult {
        var urlRequest = URLRequest(url: url)
        urlRequest.httpMethod = "POST"
        urlRequest.httpBody = Data(body.json.utf8)
        urlRequest.setValue("application/json", forHTTPHeaderField: "Content-Type")
        urlRequest.setValue(streaming ? "text/event-stream" : "application/json", forHTTPHeaderField: "Accept")
        if let apiKey { urlRequest.setValue(apiKey.authorizationHeader, forHTTPHeaderField: "Authorization") }
        // A backstop only: the streamer enforces the limits (see HTTPStreamer).
        urlRequest.timeoutInterval = limits.total + 30

        var status = 0
        var retryAfter: Double?
        var raw = Data()
        var reader = StreamReader(request: request)
        do {
            for try await event in streamer.start(urlRequest, limits: limits, streaming: streaming) {
                switch event {
                case let .head(code, headers):
                    status = code
                    retryAfter = headers["retry-after"].flatMap { RetryAfter.seconds(from: $0) }
                case let .bytes(data):
                    if status == 200, streaming {
                        if try reader.feed(data) { return try reader.result() }
                    } else {
                        guard raw.count + data.count <= Self.maxBodyBytes else {
                            throw AttemptFailure(kind: .malformed("the body is larger than \(Self.maxBodyBytes) bytes"))
                        }
                        raw.append(data)
                    }
                }
            }
        } catch let failure as AttemptFailure {
            throw failure
        } catch let TransportFailure.timedOut(limit, seconds) {
            throw AttemptFailure(kind: .timedOut(limit: limit, seconds: seconds))
        } catch let TransportFailure.connection(what) {
            let progress = reader.events > 0 ? " after \(reader.events) events" : ""
            throw AttemptFailure(kind: .connection(what + progress))
        } catch {
            throw AttemptFailure(kind: .connection("\(error)"))
        }
        if Task.isCancelled { throw AttemptFailure(kind: .connection("cancelled")) }
        guard status == 200 else {
            let excerpt = String(decoding: raw.prefix(4096), as: UTF8.self)
            let message = (try? WirePayload.decode(raw))?.error?.message ?? excerpt
            let redacted = apiKey?.redact(String(message.prefix(Self.excerptLength))) ?? String(message.prefix(Self.excerptLength))
            throw AttemptFailure(kind: .status(status, body: redacted), retryAfter: retryAfter)
        }
        if streaming { return try reader.finishWithoutDone() }
        return try Self.decodeWhole(raw, request: request)
    }

    static func decodeWhole(_ raw: Data, request: GenerationRequest) throws(AttemptFailure) -> AttemptResult {
        let payload: WirePayload
        do {
            payload = try WirePayload.decode(raw)
        } catch {
            let excerpt = String(decoding: raw.prefix(excerptLength), as: UTF8.self)
            throw AttemptFailure(kind: .malformed("expected a JSON completion object, got '\(excerpt)'"))
        }
        if let error = payload.error { throw AttemptFailure(kind: .serverError(error.message)) }
        guard let choice = payload.firstChoice, let text = choice.content else {
            throw AttemptFailure(kind: .malformed("expected choices[0] with message.content or text"))
        }
        return AttemptResult(
            text: text,
            finishReason: FinishReason(wire: choice.finishReason, stopReason: choice.stopReason?.text, stops: request.stop),
            usage: payload.usage?.tokenUsage ?? TokenUsage()
        )
    }
}

/// Reads a streamed answer: server-sent events carrying completion chunks, ended by `data: [DONE]`.
struct StreamReader {
    let request: GenerationRequest
    private var parser = ServerSentEventParser()
    private var text = ""
    private var finishReason: String?
    private var stopReason: String?
    private var usage: TokenUsage?
    private(set) var events = 0

    init(request: GenerationRequest) { self.request = request }

    /// A server that honours `max_tokens` sends about one event per token, plus a few for role, finish and usage;
    /// far more means it does not stop.
    var eventLimit: Int { 2 * request.maxTokens + 64 }

    /// Feeds bytes; true once `[DONE]` arrived.
    mutating func feed(_ data: Data) throws(AttemptFailure) -> Bool {
        let parsed: [ServerSentEvent]
        do {
            parsed = try parser.feed(data)
        } catch {
            throw AttemptFailure(kind: .malformed("the event stream broke its limits (\(error))"))
        }
        for event in parsed {
            events += 1
            if event.data == "[DONE]" { return true }
            guard events <= eventLimit else {
                throw AttemptFailure(kind: .malformed(
                    "the event stream went on past \(eventLimit) events without [DONE] (max_tokens is \(request.maxTokens))"))
            }
            let payload: WirePayload
            do {
                payload = try WirePayload.decode(Data(event.data.utf8))
            } catch {
                throw AttemptFailure(kind: .malformed("event \(events) is not a JSON chunk: '\(event.data.prefix(Attempt.excerptLength))'"))
            }
            if let error = payload.error { throw AttemptFailure(kind: .serverError(error.message)) }
            if let usage = payload.usage { self.usage = usage.tokenUsage }
            guard let choice = payload.firstChoice else { continue }
            text += choice.content ?? ""
            if let reason = choice.finishReason { finishReason = reason }
            if let reason = choice.stopReason?.text { stopReason = reason }
        }
        return false
    }

    func result() throws(AttemptFailure) -> AttemptResult {
        AttemptResult(
            text: text,
            finishReason: FinishReason(wire: finishReason, stopReason: stopReason, stops: request.stop),
            usage: usage ?? TokenUsage()
        )
    }

    /// The body ended without `[DONE]`: complete only if a finish reason came (some servers omit `[DONE]`).
    func finishWithoutDone() throws(AttemptFailure) -> AttemptResult {
        guard finishReason != nil else {
            throw AttemptFailure(kind: .incomplete("the event stream ended after \(events) events, before the answer finished"))
        }
        return try result()
    }
}
