import Foundation
@testable import Remote
import Generation
import TestSupport
import Testing

/// The issue's fault list, each against the loopback stub: a retry that then succeeds, or a clear
/// `GenerationError` that names the request. Time limits here are small settings, never assertions on elapsed time.
@Suite("Remote faults against a loopback stub")
struct FaultTests {
    @Test("429 with Retry-After: waits what the server asked, then resends the same bytes")
    func tooManyRequests() async throws {
        let stub = try HTTPStub { request in
            request.index == 0
                ? HTTPStubAction.response(status: 429, headers: ["Retry-After": "7"], body: #"{"error":{"message":"slow down"}}"#)
                : Wire.stream(["ok"])
        }
        defer { stub.stop() }
        let recorder = DelayRecorder()
        let notices = NoticeRecorder()
        let client = try RemoteClient.forTesting(stub, recorder: recorder, onRetry: notices.record)
        let response = try await client.generate(chatRequest("review/chunk-1"))
        #expect(response.text == "ok")
        #expect(recorder.delays == [7])
        #expect(notices.all.map(\.description) == [
            "request review/chunk-1: attempt 1 of 3 failed (POST \(stub.baseURL.absoluteString)/v1/chat/completions: HTTP 429: slow down); retrying in 7.0 s",
        ])
        let requests = stub.requests
        #expect(requests.count == 2)
        #expect(requests.count == 2 && requests[0].body == requests[1].body)
        #expect(requests.first?.jsonBody?["seed"] as? Int == 42)
    }

    @Test("Retry-After above the policy's cap is capped")
    func retryAfterCapped() async throws {
        let stub = try HTTPStub { request in
            request.index == 0 ? HTTPStubAction.response(status: 429, headers: ["Retry-After": "3600"], body: "{}") : Wire.stream(["ok"])
        }
        defer { stub.stop() }
        let recorder = DelayRecorder()
        let client = try RemoteClient.forTesting(stub, recorder: recorder, retry: RetryPolicy(maxAttempts: 2, baseDelay: 1, maxDelay: 12))
        _ = try await client.generate(chatRequest("r"))
        #expect(recorder.delays == [12])
    }

    @Test("500 twice, then an answer: exponential backoff, same body each time")
    func serverErrorThenSuccess() async throws {
        let stub = try HTTPStub { request in
            request.index < 2 ? HTTPStubAction.response(status: 500, body: "boom") : Wire.stream(["fine"])
        }
        defer { stub.stop() }
        let recorder = DelayRecorder()
        let client = try RemoteClient.forTesting(stub, recorder: recorder)
        let response = try await client.generate(chatRequest("t1"))
        #expect(response.text == "fine")
        #expect(recorder.delays == [0.25, 0.5])
        #expect(Set(stub.requests.map(\.body)).count == 1)
    }

    @Test("500 on every attempt: a backend error naming the request, the URL, the status and the attempts")
    func serverErrorExhausted() async throws {
        let stub = try HTTPStub { _ in HTTPStubAction.response(status: 500, body: #"{"error":{"message":"model crashed"}}"#) }
        defer { stub.stop() }
        let client = try RemoteClient.forTesting(stub)
        let error = await generationError(client, chatRequest("pr-review/chunk-7"))
        guard case let .backend(id, reason)? = error else {
            Issue.record("expected .backend, got \(String(describing: error))")
            return
        }
        #expect(id == "pr-review/chunk-7")
        #expect(reason.contains("HTTP 500") && reason.contains("model crashed"))
        #expect(reason.contains("3 attempts") && reason.contains("/v1/chat/completions"))
        #expect(stub.requests.count == 3)
    }

    @Test("400 is not retried and reads as an invalid request")
    func badRequestNotRetried() async throws {
        let stub = try HTTPStub { _ in HTTPStubAction.response(status: 400, body: #"{"error":{"message":"context length exceeded"}}"#) }
        defer { stub.stop() }
        let client = try RemoteClient.forTesting(stub)
        let error = await generationError(client, chatRequest("big"))
        guard case let .invalidRequest(id, reason)? = error else {
            Issue.record("expected .invalidRequest, got \(String(describing: error))")
            return
        }
        #expect(id == "big" && reason.contains("context length exceeded"))
        #expect(stub.requests.count == 1)
    }

    @Test("Connection reset mid-stream: retried, and the answer is the second attempt's alone", arguments: [true, false])
    func droppedMidStream(reset: Bool) async throws {
        let stub = try HTTPStub { request in
            if request.index == 0 {
                return [.eventStreamHead(), .event(Wire.chunk("partial ")), .event(Wire.chunk("answer")), reset ? .reset : .close]
            }
            return Wire.stream(["whole ", "answer"])
        }
        defer { stub.stop() }
        let recorder = DelayRecorder()
        let client = try RemoteClient.forTesting(stub, recorder: recorder)
        let response = try await client.generate(chatRequest("drop"))
        #expect(response.text == "whole answer")
        #expect(stub.requests.count == 2)
        #expect(recorder.delays.count == 1)
    }

    @Test("Connection closed before any answer, every time: an error after all attempts")
    func droppedEveryTime() async throws {
        let stub = try HTTPStub { _ in [.reset] }
        defer { stub.stop() }
        let client = try RemoteClient.forTesting(stub)
        let error = await generationError(client, chatRequest("gone"))
        guard case let .backend(id, reason)? = error else {
            Issue.record("expected .backend, got \(String(describing: error))")
            return
        }
        #expect(id == "gone" && reason.contains("3 attempts"))
        #expect(stub.requests.count == 3)
    }

    @Test("A server slower than the connect limit (streamed): retried, then a time-limit error")
    func slowerThanConnectLimit() async throws {
        let stub = try HTTPStub { _ in [.sleep(4)] + Wire.stream(["late"]) }
        defer { stub.stop() }
        let client = try RemoteClient.forTesting(
            stub, limits: TimeLimits(connect: 0.3, read: 5, total: 20), retry: RetryPolicy(maxAttempts: 2, baseDelay: 0)
        )
        let error = await generationError(client, chatRequest("slow-1"))
        guard case let .backend(id, reason)? = error else {
            Issue.record("expected .backend, got \(String(describing: error))")
            return
        }
        #expect(id == "slow-1")
        #expect(reason.contains("connect time limit of 0.3 s") && reason.contains("2 attempts"))
        #expect(stub.requests.count == 2)
    }

    @Test("A stream that stalls after its head: the read limit ends it")
    func stallAfterHead() async throws {
        let stub = try HTTPStub { _ in [.eventStreamHead(), .event(Wire.chunk("a")), .sleep(4), .close] }
        defer { stub.stop() }
        let client = try RemoteClient.forTesting(
            stub, limits: TimeLimits(connect: 5, read: 0.3, total: 20), retry: RetryPolicy(maxAttempts: 1)
        )
        let error = await generationError(client, chatRequest("stall"))
        #expect(error?.description.contains("read time limit of 0.3 s") == true, "\(String(describing: error))")
        #expect(error?.description.contains("request stall") == true)
    }

    @Test("A non-streamed answer slower than the total limit")
    func slowerThanTotalLimit() async throws {
        let stub = try HTTPStub { _ in [.sleep(4)] + Wire.completion("late") }
        defer { stub.stop() }
        let client = try RemoteClient.forTesting(
            stub, limits: TimeLimits(connect: 5, read: 5, total: 0.4), retry: RetryPolicy(maxAttempts: 1), streaming: false
        )
        let error = await generationError(client, chatRequest("slow-2"))
        #expect(error?.description.contains("total time limit of 0.4 s") == true, "\(String(describing: error))")
    }

    @Test("Malformed JSON from the server is a clear error, not retried", arguments: [false, true])
    func malformedJSON(streaming: Bool) async throws {
        let stub = try HTTPStub { _ in
            streaming
                ? [.eventStreamHead(), .event(#"{"choices":[{"delta":{"content":"x"}"#), .close]
                : HTTPStubAction.response(status: 200, body: #"{"choices":[{"message":{"content":"x"}"#)
        }
        defer { stub.stop() }
        let client = try RemoteClient.forTesting(stub, streaming: streaming)
        let error = await generationError(client, chatRequest("bad-json"))
        guard case let .backend(id, reason)? = error else {
            Issue.record("expected .backend, got \(String(describing: error))")
            return
        }
        #expect(id == "bad-json" && reason.contains("malformed answer") && reason.contains("1 attempt"))
        #expect(stub.requests.count == 1)
    }

    @Test("An event stream that never ends: stopped by the event bound (max_tokens), not by waiting")
    func endlessEventStream() async throws {
        let stub = try HTTPStub { _ in
            [.eventStreamHead(), .repeatSend(Data("data: \(Wire.chunk("x"))\n\n".utf8), interval: 0.002, count: 5000)]
        }
        defer { stub.stop() }
        let client = try RemoteClient.forTesting(stub)
        let error = await generationError(client, chatRequest("endless", maxTokens: 8))
        guard case let .backend(id, reason)? = error else {
            Issue.record("expected .backend, got \(String(describing: error))")
            return
        }
        #expect(id == "endless" && reason.contains("past 80 events without [DONE]"))
        #expect(stub.requests.count == 1)
    }

    @Test("An endless stream of keep-alive comments: the total limit ends each attempt")
    func endlessComments() async throws {
        let stub = try HTTPStub { _ in [.eventStreamHead(), .repeatSend(Data(": ping\n\n".utf8), interval: 0.05, count: 400)] }
        defer { stub.stop() }
        let client = try RemoteClient.forTesting(
            stub, limits: TimeLimits(connect: 5, read: 5, total: 0.5), retry: RetryPolicy(maxAttempts: 2, baseDelay: 0)
        )
        let error = await generationError(client, chatRequest("pings"))
        #expect(error?.description.contains("total time limit of 0.5 s") == true, "\(String(describing: error))")
        #expect(stub.requests.count == 2)
    }

    @Test("Nothing listening: refused connections are retried, then reported")
    func connectionRefused() async throws {
        let stub = try HTTPStub { _ in [] }
        stub.stop()
        let client = try RemoteClient.forTesting(stub)
        let error = await generationError(client, chatRequest("nobody"))
        guard case let .backend(id, reason)? = error else {
            Issue.record("expected .backend, got \(String(describing: error))")
            return
        }
        #expect(id == "nobody" && reason.contains("3 attempts"))
    }

    /// Time limits past the stub's 120 s hold: only the cancellation can end the held request.
    static let longerThanTheHold = TimeLimits(connect: 300, read: 300, total: 600)

    @Test("Cancelling a call that waits for a slot: cancelled, and it never reaches the server")
    func cancelWhileWaitingForSlot() async throws {
        // The server holds the first request far longer than the test can take (a starved cooperative pool once
        // delayed the cancellation past a 3 s hold, and the holder then finished normally), and the client's time
        // limits are longer still (with the default 5 s read limit a starved test once saw the holder time out and
        // send its request again before it was cancelled).
        let stub = try HTTPStub { _ in [.sleep(120)] + Wire.stream(["first"]) }
        defer { stub.stop() }
        let client = try RemoteClient.forTesting(stub, parallel: 1, limits: Self.longerThanTheHold)
        let holder = Task { await generationError(client, chatRequest("holder")) }
        for _ in 0..<1000 where stub.requests.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
        let waiter = Task { await generationError(client, chatRequest("waiter")) }
        waiter.cancel()
        #expect(await waiter.value == .cancelled(requestID: "waiter"))
        holder.cancel()
        #expect(await holder.value == .cancelled(requestID: "holder"))
        #expect(stub.requests.count == 1)
    }

    @Test("Cancelling the calling task stops the request and throws cancelled")
    func cancellation() async throws {
        let stub = try HTTPStub { _ in [.sleep(120)] + Wire.stream(["never"]) }
        defer { stub.stop() }
        let client = try RemoteClient.forTesting(stub, limits: Self.longerThanTheHold)
        let task = Task { await generationError(client, chatRequest("to-cancel")) }
        // Bounded wait for the request to reach the stub (at most 10 s).
        for _ in 0..<1000 where stub.requests.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
        #expect(stub.requests.count == 1)
        task.cancel()
        let error = await task.value
        #expect(error == .cancelled(requestID: "to-cancel"))
    }
}

/// Collects retry notices.
final class NoticeRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var notices: [RetryNotice] = []

    var all: [RetryNotice] {
        lock.lock()
        defer { lock.unlock() }
        return notices
    }

    func record(_ notice: RetryNotice) {
        lock.lock()
        notices.append(notice)
        lock.unlock()
    }
}
