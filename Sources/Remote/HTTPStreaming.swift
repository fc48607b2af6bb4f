internal import Foundation
#if canImport(FoundationNetworking)
internal import FoundationNetworking
#endif

/// What arrives for one HTTP request, in order: the head once, then the body in pieces.
enum HTTPEvent: Sendable {
    case head(status: Int, headers: [String: String])
    case bytes(Data)
}

/// Why an HTTP exchange ended before its answer was complete.
enum TransportFailure: Error, Sendable {
    /// A time limit ran out: `limit` names it (`connect`, `read`, `total`), `seconds` is its value.
    case timedOut(limit: String, seconds: Double)
    /// The connection failed or was dropped (refused, reset, closed mid-body).
    case connection(String)
}

/// Streams HTTP exchanges through one `URLSession` (FoundationNetworking, libcurl underneath) and enforces the
/// time limits itself: FoundationNetworking's own request timeout counts whole seconds and restarts on every
/// byte, and it has no separate connect or total limit. The limits run on Dispatch timers, not on Swift tasks, so
/// they fire on time even when the cooperative thread pool is busy (CPU-bound callers, a loaded test run).
final class HTTPStreamer: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    private struct Exchange {
        var continuation: AsyncThrowingStream<HTTPEvent, any Error>.Continuation
        var task: URLSessionDataTask
        var headArrived = false
        var lastActivity: ContinuousClock.Instant
        /// Enforces the time limits; cancelled when the exchange ends.
        var timer: (any DispatchSourceTimer)?
    }

    private let lock = NSLock()
    private var exchanges: [Int: Exchange] = [:]
    private var session: URLSession?
    private let timerQueue = DispatchQueue(label: "sparrow.remote.time-limits")

    init(maxConnections: Int) {
        super.init()
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpMaximumConnectionsPerHost = maxConnections
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.urlCache = nil
        configuration.httpCookieStorage = nil
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = 1
        session = URLSession(configuration: configuration, delegate: self, delegateQueue: queue)
    }

    /// Cancels every exchange and releases the session (which holds this object as its delegate).
    func invalidate() {
        lock.lock()
        let current = session
        session = nil
        lock.unlock()
        current?.invalidateAndCancel()
    }

    /// Starts `request`. The stream ends normally at the end of the body, or throws `TransportFailure`; stopping
    /// the iteration (or cancelling the iterating task) cancels the exchange.
    func start(_ request: URLRequest, limits: TimeLimits, streaming: Bool) -> AsyncThrowingStream<HTTPEvent, any Error> {
        let (stream, continuation) = AsyncThrowingStream<HTTPEvent, any Error>.makeStream()
        lock.lock()
        guard let session else {
            lock.unlock()
            continuation.finish(throwing: TransportFailure.connection("the client was shut down"))
            return stream
        }
        let task = session.dataTask(with: request)
        let id = task.taskIdentifier
        let started = ContinuousClock.now
        exchanges[id] = Exchange(continuation: continuation, task: task, lastActivity: started)
        lock.unlock()
        continuation.onTermination = { [weak self] _ in self?.end(id, cancel: true) }
        task.resume()
        let timer = DispatchSource.makeTimerSource(queue: timerQueue)
        let total = started + .seconds(limits.total)
        timer.setEventHandler { [weak self] in
            self?.check(id, timer: timer, started: started, total: total, limits: limits, streaming: streaming)
        }
        lock.lock()
        let running = exchanges[id] != nil
        if running { exchanges[id]?.timer = timer }
        lock.unlock()
        if running {
            timer.schedule(deadline: .now())
            timer.resume()
        }
        return stream
    }

    /// Ends the exchange when a limit has run out, else sets the timer to the nearest deadline. Deadlines only
    /// move when bytes arrive and never past `started + limits.total`, so the timer fires a bounded number of times
    /// that ends with the exchange.
    private func check(
        _ id: Int, timer: any DispatchSourceTimer, started: ContinuousClock.Instant, total: ContinuousClock.Instant,
        limits: TimeLimits, streaming: Bool
    ) {
        guard let (deadline, limit) = nextDeadline(id, started: started, total: total, limits: limits, streaming: streaming)
        else {
            timer.cancel()
            return
        }
        let remaining = deadline - ContinuousClock.now
        if remaining <= .zero {
            fail(id, TransportFailure.timedOut(limit: limit.0, seconds: limit.1))
            return
        }
        let (seconds, attoseconds) = remaining.components
        let nanoseconds = Int(clamping: seconds) &* 1_000_000_000 &+ Int(attoseconds / 1_000_000_000) + 1
        timer.schedule(deadline: .now() + .nanoseconds(nanoseconds))
    }

    /// The nearest deadline of exchange `id` and the limit it belongs to, or `nil` once the exchange has ended.
    private func nextDeadline(
        _ id: Int, started: ContinuousClock.Instant, total: ContinuousClock.Instant, limits: TimeLimits, streaming: Bool
    ) -> (ContinuousClock.Instant, (String, Double))? {
        lock.lock()
        defer { lock.unlock() }
        guard let exchange = exchanges[id] else { return nil }
        if !exchange.headArrived, streaming, started + .seconds(limits.connect) < total {
            return (started + .seconds(limits.connect), ("connect", limits.connect))
        }
        if exchange.headArrived, streaming, exchange.lastActivity + .seconds(limits.read) < total {
            return (exchange.lastActivity + .seconds(limits.read), ("read", limits.read))
        }
        return (total, ("total", limits.total))
    }

    private func fail(_ id: Int, _ failure: TransportFailure) {
        lock.lock()
        let exchange = exchanges[id]
        lock.unlock()
        exchange?.continuation.finish(throwing: failure)
        end(id, cancel: true)
    }

    private func end(_ id: Int, cancel: Bool) {
        lock.lock()
        let exchange = exchanges.removeValue(forKey: id)
        lock.unlock()
        exchange?.timer?.cancel()
        if cancel { exchange?.task.cancel() }
    }

    private func withExchange(_ id: Int, touch: Bool, head: Bool = false) -> AsyncThrowingStream<HTTPEvent, any Error>.Continuation? {
        lock.lock()
        defer { lock.unlock() }
        guard var exchange = exchanges[id] else { return nil }
        if touch { exchange.lastActivity = .now }
        if head, !exchange.headArrived, let timer = exchange.timer {
            // The read limit may end before the connect limit would have: look again now (dispatch_source_set_timer
            // may be called from any thread).
            timer.schedule(deadline: .now())
        }
        if head { exchange.headArrived = true }
        exchanges[id] = exchange
        return exchange.continuation
    }

    // MARK: URLSessionDataDelegate

    func urlSession(
        _ session: URLSession,
        dataTask: URLSessionDataTask,
        didReceive response: URLResponse,
        completionHandler: @escaping @Sendable (URLSession.ResponseDisposition) -> Void
    ) {
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        var headers: [String: String] = [:]
        for (name, value) in (response as? HTTPURLResponse)?.allHeaderFields ?? [:] {
            if let name = name as? String, let value = value as? String { headers[name.lowercased()] = value }
        }
        withExchange(dataTask.taskIdentifier, touch: true, head: true)?.yield(.head(status: status, headers: headers))
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        withExchange(dataTask.taskIdentifier, touch: true)?.yield(.bytes(data))
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        let id = task.taskIdentifier
        guard let continuation = withExchange(id, touch: false) else { return }
        if let error {
            continuation.finish(throwing: TransportFailure.connection(Self.describe(error)))
        } else {
            continuation.finish()
        }
        end(id, cancel: false)
    }

    private static func describe(_ error: any Error) -> String {
        guard let urlError = error as? URLError else { return "\(error)" }
        let what = switch urlError.code {
        case .networkConnectionLost: "the connection was lost"
        case .cannotConnectToHost: "could not connect"
        case .timedOut: "the request timed out"
        case .cannotFindHost: "the host name did not resolve"
        case .notConnectedToInternet: "no network"
        case .badServerResponse: "the server's response was not valid HTTP"
        case .cancelled: "cancelled"
        default: "URL error \(urlError.code.rawValue)"
        }
        return "\(what) (\(urlError.localizedDescription))"
    }
}
