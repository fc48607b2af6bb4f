import Foundation
@testable import Remote
import Testing

/// Expectations from the WHATWG HTML standard, §9.2.6 "Interpreting an event stream" and its examples
/// (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation).
@Suite("Server-sent event parser")
struct ServerSentEventParserTests {
    private func parse(_ chunks: [String]) throws -> [ServerSentEvent] {
        var parser = ServerSentEventParser()
        var events: [ServerSentEvent] = []
        for chunk in chunks { events += try parser.feed(Array(chunk.utf8)) }
        return events
    }

    @Test("Spec example: three data lines make one event joined by line feeds")
    func multiLineData() throws {
        let events = try parse(["data: YHOO\ndata: +2\ndata: 10\n\n"])
        #expect(events.map(\.data) == ["YHOO\n+2\n10"])
        #expect(events.first?.type == "message")
    }

    @Test("Spec example: comment, id and event fields")
    func fieldsAndComments() throws {
        let events = try parse([": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n\n"])
        #expect(events.map(\.data) == ["first event", "second event", " third event"])
        #expect(events.map(\.lastEventID) == ["1", "", ""])
    }

    @Test("Spec example: an empty data line dispatches an empty event; an unterminated event is not dispatched")
    func emptyData() throws {
        let events = try parse(["data\n\ndata\ndata\n\ndata:"])
        #expect(events.map(\.data) == ["", "\n"])
    }

    @Test("Spec example: one space after the colon is dropped, so both spellings are equal")
    func optionalSpace() throws {
        #expect(try parse(["data:test\n\ndata: test\n\n"]).map(\.data) == ["test", "test"])
    }

    @Test("CRLF, LF and CR line ends, also when a CRLF is split between two chunks")
    func lineEnds() throws {
        let events = try parse(["event: a\r\ndata: 1\r", "\n\r", "\ndata: 2\r\rdata: 3\n\n"])
        #expect(events.map(\.data) == ["1", "2", "3"])
        #expect(events.map(\.type) == ["a", "message", "message"])
    }

    @Test("A leading byte-order mark is ignored; byte-by-byte feeding gives the same events")
    func bomAndBytewise() throws {
        let text = "\u{FEFF}data: {\"a\":1}\n\ndata: [DONE]\n\n"
        let whole = try parse([text])
        var parser = ServerSentEventParser()
        var bytewise: [ServerSentEvent] = []
        for byte in Array(text.utf8) { bytewise += try parser.feed([byte]) }
        #expect(whole.map(\.data) == ["{\"a\":1}", "[DONE]"])
        #expect(bytewise == whole)
    }

    @Test("Lines longer than the limit are rejected instead of growing memory")
    func lineLimit() throws {
        var parser = ServerSentEventParser(maxLineBytes: 16)
        #expect(throws: ServerSentEventParser.Failure.lineTooLong(limit: 16)) {
            _ = try parser.feed(Array("data: 0123456789abcdef\n".utf8))
        }
    }
}
