import Foundation
@testable import Remote
import Generation
import Testing

/// The strict parser against Foundation's JSONSerialization as an independent reader, and RFC 8259's rules.
@Suite("Strict JSON parsing and writing")
struct JSONTests {
    static let valid = [
        #"{"a":1,"b":[true,false,null],"c":{"d":"e"}}"#,
        #"  [1, -2.5, 3e2, 0.125E-2, -0]  "#,
        #""tab\tnew\nquote\"slash\/u\u00e9\ud83d\ude00""#,
        #"{"nested":[[[[{"x":[]}]]]],"empty":{}}"#,
        "123456789012",
    ]

    @Test("Valid documents read as JSONSerialization reads them (written back and compared)", arguments: valid)
    func agreesWithFoundation(text: String) throws {
        let value = try StrictJSONParser.parse(text)
        let ours = try #require(value.jsonText)
        let reference = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
        let roundTrip = try JSONSerialization.jsonObject(with: Data(ours.utf8), options: [.fragmentsAllowed])
        #expect(NSDictionary(dictionary: ["v": reference]) == NSDictionary(dictionary: ["v": roundTrip]))
    }

    static let invalid = [
        ("{\"a\":1,}", 7), ("[1,]", 3), ("01", 1), ("NaN", 0), ("{'a':1}", 1), ("\"a\u{01}\"", 2),
        ("\"\\ud800\"", 7), ("[1] [2]", 4), ("", 0), ("{\"a\" 1}", 5), ("1.", 2), ("-", 1), ("1e999", 0),
        ("Sure! {\"a\":1}", 0),
    ]

    @Test("Invalid documents are rejected at the right byte", arguments: invalid)
    func rejects(text: String, offset: Int) {
        #expect(throws: StrictJSONParser.Failure.self) { try StrictJSONParser.parse(text) }
        do {
            _ = try StrictJSONParser.parse(text)
        } catch {
            #expect(error.offset == offset, "\(error)")
        }
    }

    @Test("Nesting deeper than the limit is an error, not a stack overflow")
    func depthLimit() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: StrictJSONParser.Failure.self) { try StrictJSONParser.parse(deep) }
    }

    @Test("Member order is kept when writing, and non-finite numbers have no JSON text")
    func writing() {
        let value = JSONValue.object([.init("z", .number(1)), .init("a", .number(0.5)), .init("m", .string("\u{01}\""))])
        #expect(value.jsonText == #"{"z":1,"a":0.5,"m":"\u0001\""}"#)
        #expect(JSONValue.array([.number(.infinity)]).jsonText == nil)
    }
}

@Suite("Schema check of answers")
struct SchemaCheckTests {
    @Test("Accepts a fitting answer; names the path and the expectation of a wrong one")
    func violations() throws {
        func check(_ text: String) throws -> String? {
            SchemaCheck.violation(of: findingSchema, by: try StrictJSONParser.parse(text))
        }
        #expect(try check(#"{"severity":"note","line":4}"#) == nil)
        #expect(try check(#"{"severity":"note"}"#) == "at $: expected member 'line', which is missing")
        #expect(try check(#"{"severity":"note","line":4.5}"#) == "at $.line: expected integer, got a number")
        #expect(try check(#"{"severity":"note","line":4,"x":1}"#) == "at $: unexpected member 'x' (allowed: 'severity', 'line')")
        #expect(try check(#"[1]"#) == "at $: expected object, got an array")
        let list = JSONValue.object([.init("type", .string("array")), .init("items", findingSchema), .init("maxItems", .number(1))])
        #expect(SchemaCheck.violation(of: list, by: try StrictJSONParser.parse(#"[{"severity":"bad","line":1}]"#))?
            .hasPrefix("at $[0].severity: expected one of") == true)
        #expect(SchemaCheck.violation(of: list, by: try StrictJSONParser.parse("[]")) == nil)
        #expect(SchemaCheck.violation(of: list, by: try StrictJSONParser.parse(#"[{"severity":"note","line":1},{"severity":"note","line":2}]"#))
            == "at $: expected at most 1 items, got 2")
    }
}
