public import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A tiny HTTP/1.1 server on 127.0.0.1 for fault tests of HTTP clients. Each connection carries one request; the
/// handler decides what goes back, byte by byte if need be (a dropped connection, a slow answer, an endless event
/// stream). Loopback only; every loop is bounded in count and in time.
///
/// The server reads a request's head up to 64 KiB and a body by its `Content-Length` (up to 8 MiB); chunked request
/// bodies are not supported (the clients under test send `Content-Length`).
public final class HTTPStub: @unchecked Sendable {
    /// The port the server listens on (chosen by the kernel).
    public let port: UInt16
    /// `http://127.0.0.1:PORT`.
    public var baseURL: URL {
        URL(string: "http://127.0.0.1:\(port)") ?? URL(fileURLWithPath: "/")
    }

    private let listener: Int32
    private let handler: @Sendable (HTTPStubRequest) -> [HTTPStubAction]
    private let lock = NSLock()
    private var stopped = false
    /// Set (under `lock`) when the accept loop has closed the listener; `stop()` then leaves it alone.
    private var listenerClosed = false
    private var recorded: [HTTPStubRequest] = []
    private var inFlight = 0
    private var maxInFlight = 0
    private var openConnections = 0
    private var acceptThread: Thread?

    /// Most connections a stub accepts in its lifetime: a bound on the accept loop.
    public static let connectionLimit = 512

    /// Starts listening. `handler` gets each request (with its 0-based arrival index) and returns what to send.
    public init(handler: @escaping @Sendable (HTTPStubRequest) -> [HTTPStubAction]) throws {
        self.handler = handler
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw HTTPStubError.socket("socket() failed: errno \(errno)") }
        var yes: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, 64) == 0 else {
            close(fd)
            throw HTTPStubError.socket("bind/listen on 127.0.0.1 failed: errno \(errno)")
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = UInt16(bigEndian: actual.sin_port)
        let thread = Thread { [weak self] in self?.acceptLoop() }
        acceptThread = thread
        thread.start()
    }

    deinit { stop() }

    /// Stops accepting connections. Connections already open finish their scripts (each bounded in time).
    public func stop() {
        lock.lock()
        defer { lock.unlock() }
        stopped = true
        // Only wakes the accept loop; the loop closes the descriptor itself. Closing it here let the number be reused
        // by the next test's stub while this loop still polled it — which then answered that stub's requests.
        if !listenerClosed { shutdown(listener, Int32(SHUT_RDWR)) }
    }

    /// The requests received so far, in arrival order.
    public var requests: [HTTPStubRequest] {
        lock.lock()
        defer { lock.unlock() }
        return recorded
    }

    /// The largest number of requests that were being answered at the same time.
    public var maxConcurrentRequests: Int {
        lock.lock()
        defer { lock.unlock() }
        return maxInFlight
    }

    /// The number of requests being answered right now.
    public var concurrentRequests: Int {
        lock.lock()
        defer { lock.unlock() }
        return inFlight
    }

    private var isStopped: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopped
    }

    private func acceptLoop() {
        defer {
            lock.lock()
            listenerClosed = true
            close(listener)
            lock.unlock()
        }
        var accepted = 0
        // Bounded: at most `connectionLimit` connections, and it ends when `stop()` shuts the listener down.
        while accepted < Self.connectionLimit, !isStopped {
            var poller = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, 100)
            if ready <= 0 { continue }
            let connection = accept(listener, nil, nil)
            if connection < 0 { continue }
            accepted += 1
            let thread = Thread { [self] in serve(connection) }
            thread.start()
        }
    }

    private func serve(_ connection: Int32) {
        defer { close(connection) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        _ = setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard var request = readRequest(connection) else { return }
        lock.lock()
        request.index = recorded.count
        recorded.append(request)
        inFlight += 1
        maxInFlight = max(maxInFlight, inFlight)
        lock.unlock()
        defer {
            lock.lock()
            inFlight -= 1
            lock.unlock()
        }
        for action in handler(request) {
            switch action {
            case let .send(data):
                if !sendAll(connection, data) { return }
            case let .sleep(seconds):
                Thread.sleep(forTimeInterval: seconds)
            case let .repeatSend(data, interval, count):
                for _ in 0..<count {
                    if !sendAll(connection, data) { return }
                    Thread.sleep(forTimeInterval: interval)
                }
            case .close:
                return
            case .reset:
                var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
                _ = setsockopt(connection, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
                return
            }
        }
    }

    private func sendAll(_ connection: Int32, _ data: Data) -> Bool {
        var offset = 0
        let bytes = [UInt8](data)
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes {
                Glibc.send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if sent <= 0 { return false }
            offset += sent
        }
        return true
    }

    private func readRequest(_ connection: Int32) -> HTTPStubRequest? {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16_384)
        let headLimit = 65_536
        let separator: [UInt8] = [13, 10, 13, 10]
        var headEnd: Int?
        while headEnd == nil, buffer.count < headLimit {
            let count = recv(connection, &chunk, chunk.count, 0)
            if count <= 0 { return nil }
            buffer.append(contentsOf: chunk[0..<count])
            headEnd = Self.find(separator, in: buffer)
        }
        guard let headEnd, let head = String(bytes: buffer[0..<headEnd], encoding: .utf8) else { return nil }
        let lines = head.components(separatedBy: "\r\n")
        let requestLine = lines.first?.split(separator: " ").map(String.init) ?? []
        guard requestLine.count >= 2 else { return nil }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            headers[name] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let bodyLength = min(Int(headers["content-length"] ?? "0") ?? 0, 8 << 20)
        var body = Array(buffer[(headEnd + 4)...])
        while body.count < bodyLength {
            let count = recv(connection, &chunk, chunk.count, 0)
            if count <= 0 { return nil }
            body.append(contentsOf: chunk[0..<count])
        }
        return HTTPStubRequest(
            index: 0, method: requestLine[0], path: requestLine[1], headers: headers, body: Data(body.prefix(bodyLength))
        )
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count) where haystack[start..<(start + needle.count)].elementsEqual(needle) {
            return start
        }
        return nil
    }
}

/// One request as the stub received it.
public struct HTTPStubRequest: Sendable {
    /// 0-based arrival order.
    public var index: Int
    public var method: String
    public var path: String
    /// Header names in lower case.
    public var headers: [String: String]
    public var body: Data

    /// The body parsed as a JSON object (`nil` when it is not one).
    public var jsonBody: [String: Any]? {
        (try? JSONSerialization.jsonObject(with: body)) as? [String: Any]
    }
}

/// One step of the stub's answer on a connection.
public enum HTTPStubAction: Sendable {
    /// Write these bytes.
    case send(Data)
    /// Wait (bounded by the caller's choice of seconds).
    case sleep(Double)
    /// Write `data` up to `count` times, `interval` seconds apart; stops early when the client hangs up.
    case repeatSend(Data, interval: Double, count: Int)
    /// Close the connection normally (FIN).
    case close
    /// Close the connection with a TCP reset (RST), as a crashed server or a proxy does.
    case reset

    /// A complete response with `Content-Length`, then close.
    public static func response(
        status: Int, headers: [String: String] = [:], body: String, contentType: String = "application/json"
    ) -> [HTTPStubAction] {
        let bytes = Data(body.utf8)
        var head = "HTTP/1.1 \(status) \(reasonPhrase(status))\r\nContent-Type: \(contentType)\r\n"
        head += "Content-Length: \(bytes.count)\r\nConnection: close\r\n"
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { head += "\(name): \(value)\r\n" }
        return [.send(Data((head + "\r\n").utf8) + bytes), .close]
    }

    /// The head of a server-sent event stream (no length: the stream ends when the connection closes).
    public static func eventStreamHead(status: Int = 200) -> HTTPStubAction {
        .send(Data("HTTP/1.1 \(status) \(reasonPhrase(status))\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n".utf8))
    }

    /// One server-sent event carrying `data`.
    public static func event(_ data: String) -> HTTPStubAction {
        .send(Data("data: \(data)\n\n".utf8))
    }

    private static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 429: "Too Many Requests"
        case 500: "Internal Server Error"
        case 503: "Service Unavailable"
        default: "Status"
        }
    }
}

/// Why the stub could not start.
public enum HTTPStubError: Error, Sendable {
    case socket(String)
}
