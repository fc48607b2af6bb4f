/// One dispatched server-sent event.
public struct ServerSentEvent: Sendable, Hashable {
    /// The `event:` field, `message` when absent.
    public var type: String
    /// The `data:` lines joined by line feeds.
    public var data: String
    /// The last `id:` seen on the stream so far.
    public var lastEventID: String
}

/// An incremental parser of `text/event-stream`, following the WHATWG HTML standard, "Interpreting an event
/// stream" (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation): lines
/// end in CRLF, LF or CR (also split across chunks), a leading BOM is dropped, `:` lines are comments, one space
/// after the colon is removed, a blank line dispatches, an event with no data is not dispatched.
///
/// Memory is bounded: a line longer than `maxLineBytes` or an event whose data exceeds `maxEventBytes` is an error.
public struct ServerSentEventParser: Sendable {
    /// Why a stream was rejected.
    public enum Failure: Error, Sendable, Hashable {
        case lineTooLong(limit: Int)
        case eventTooLarge(limit: Int)
    }

    public let maxLineBytes: Int
    public let maxEventBytes: Int

    private var line: [UInt8] = []
    private var afterCR = false
    private var atStart = true
    private var data: [UInt8] = []
    private var hasData = false
    private var eventType = ""
    private var lastEventID = ""
    /// The last `retry:` value in milliseconds, if any.
    public private(set) var reconnectionTime: Int?

    public init(maxLineBytes: Int = 4 << 20, maxEventBytes: Int = 16 << 20) {
        self.maxLineBytes = maxLineBytes
        self.maxEventBytes = maxEventBytes
    }

    /// Feeds the next bytes of the stream and returns the events they complete.
    public mutating func feed<Bytes: Sequence>(_ bytes: Bytes) throws(Failure) -> [ServerSentEvent]
    where Bytes.Element == UInt8 {
        var events: [ServerSentEvent] = []
        for byte in bytes {
            if afterCR {
                afterCR = false
                if byte == 0x0A { continue }
            }
            switch byte {
            case 0x0D:
                afterCR = true
                if let event = try endLine() { events.append(event) }
            case 0x0A:
                if let event = try endLine() { events.append(event) }
            default:
                guard line.count < maxLineBytes else { throw .lineTooLong(limit: maxLineBytes) }
                line.append(byte)
            }
        }
        return events
    }

    private mutating func endLine() throws(Failure) -> ServerSentEvent? {
        var current = line
        line.removeAll(keepingCapacity: true)
        if atStart {
            atStart = false
            if current.starts(with: [0xEF, 0xBB, 0xBF]) { current.removeFirst(3) }
        }
        if current.isEmpty { return dispatch() }
        if current.first == UInt8(ascii: ":") { return nil }
        let name: [UInt8]
        var value: ArraySlice<UInt8>
        if let colon = current.firstIndex(of: UInt8(ascii: ":")) {
            name = Array(current[..<colon])
            value = current[(colon + 1)...]
            if value.first == UInt8(ascii: " ") { value = value.dropFirst() }
        } else {
            name = current
            value = []
        }
        switch String(decoding: name, as: UTF8.self) {
        case "event":
            eventType = String(decoding: value, as: UTF8.self)
        case "data":
            guard data.count + value.count < maxEventBytes else { throw .eventTooLarge(limit: maxEventBytes) }
            data.append(contentsOf: value)
            data.append(0x0A)
            hasData = true
        case "id":
            if !value.contains(0) { lastEventID = String(decoding: value, as: UTF8.self) }
        case "retry":
            if !value.isEmpty, value.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) {
                reconnectionTime = Int(String(decoding: value, as: UTF8.self))
            }
        default:
            break
        }
        return nil
    }

    private mutating func dispatch() -> ServerSentEvent? {
        defer {
            data.removeAll(keepingCapacity: true)
            hasData = false
            eventType = ""
        }
        guard hasData else { return nil }
        var payload = data
        if payload.last == 0x0A { payload.removeLast() }
        return ServerSentEvent(
            type: eventType.isEmpty ? "message" : eventType,
            data: String(decoding: payload, as: UTF8.self),
            lastEventID: lastEventID
        )
    }
}
