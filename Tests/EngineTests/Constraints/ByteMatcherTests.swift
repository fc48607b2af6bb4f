import Engine
import Generation
import Testing
import Tokenizers

/// Hand-written answers the matcher must accept whole, and broken ones it must stop at the first wrong byte.
@Suite struct ByteMatcherTests {
    static let finding = schemaObject(
        ("type", .string("object")),
        ("properties", schemaObject(
            ("file", schemaObject(("type", .string("string")))),
            ("line", schemaObject(("type", .string("integer")), ("minimum", .number(1)))),
            ("severity", schemaObject(("enum", .array([.string("error"), .string("warning"), .string("note")])))),
            ("message", schemaObject(("type", .string("string")), ("maxLength", .number(5)))),
            ("fixed", schemaObject(("type", .string("boolean")))),
            ("tags", schemaObject(("type", .string("array")), ("items", schemaObject(("type", .string("string")))), ("maxItems", .number(2))))
        )),
        ("required", .array([.string("file"), .string("line"), .string("severity")]))
    )

    @Test(arguments: [
        #"{"file":"a.swift","line":3,"severity":"error"}"#,
        #"{"file":"","line":1,"severity":"note","message":"héllo","fixed":false,"tags":[]}"#,
        #"{"file":"x\"y\\z\n\t","line":12,"severity":"warning","tags":["a","b"]}"#,
        #"{"file":"日本😀","line":99999,"severity":"error","fixed":true}"#,
    ])
    func acceptsValidAnswers(_ text: String) throws {
        let result = try ByteVocabulary.run(Self.finding, text)
        #expect(result.accepted == text.utf8.count)
        #expect(result.complete)
    }

    @Test(arguments: [
        (#"{"file":"a","line":0"#, 19),                         // minimum 1: "0" cannot start a valid line
        (#"{"line":1"#, 2),                                      // required "file" comes first
        (#"{"file":"a","line":12"#, 21),                        // (accepted whole: a prefix, not yet complete)
        (#"{"file":"a","line":1,"severity":"fatal"}"#, 33),     // not an enum value
        (#"{"file":"a","line":1,"severity":"note","message":"abcdef"}"#, 55), // maxLength 5
        (#"{"file":"a","line":1,"severity":"note","tags":["a","b","c"]}"#, 54), // maxItems 2
        (#"{"file":"a\u0041","#, 11),                            // \u escapes are never generated
        (#"{ "file""#, 1),                                       // no whitespace between tokens
        (#"{"file":"a","line":1,"severity":"note","extra":1}"#, 40), // unknown member
    ])
    func stopsAtTheFirstWrongByte(_ text: String, _ expected: Int) throws {
        let result = try ByteVocabulary.run(Self.finding, text)
        #expect(result.accepted == expected, "\(text)")
        #expect(!result.complete)
    }

    @Test func invalidUTF8IsRejected() throws {
        let schema = schemaObject(("type", .string("string")))
        let session = try ConstraintSession(program: try ConstraintProgram(schema: schema), trie: ByteVocabulary.trie, maxTokens: 100)
        try session.advance(TokenID(UInt8(ascii: "\"")))
        // Overlong (C0/C1, E0 80), surrogate (ED A0), above U+10FFFF (F4 90), stray continuation (80).
        for bad: [UInt8] in [[0xC0], [0xC1], [0xE0, 0x80], [0xED, 0xA0], [0xF4, 0x90], [0x80], [0xF5]] {
            var accepted = 0
            for byte in bad where session.allows(TokenID(byte)) { accepted += 1 }
            #expect(accepted < bad.count || bad.count > 1 && !session.allows(TokenID(bad[1])), "\(bad)")
            #expect(!session.allows(TokenID(bad[0])) || bad.count > 1, "\(bad)")
        }
        for good: [UInt8] in [[0xC3, 0xA9], [0xE6, 0x97, 0xA5], [0xF0, 0x9F, 0x98, 0x80], [0xED, 0x9F, 0xBF]] {
            for byte in good {
                #expect(session.allows(TokenID(byte)), "\(good)")
                try session.advance(TokenID(byte))
            }
        }
        try session.advance(TokenID(UInt8(ascii: "\"")))
        #expect(session.mustEnd)
        #expect(session.allowedTokens().count == 1)
        #expect(session.allowedTokens().contains(256))
    }

    @Test func oneOfPicksTheBranchByItsFirstKey() throws {
        let schema = schemaObject(("oneOf", .array([
            schemaObject(("type", .string("object")), ("properties", schemaObject(("edit", schemaObject(("type", .string("integer")))))),
                         ("required", .array([.string("edit")]))),
            schemaObject(("type", .string("object")), ("properties", schemaObject(("note", schemaObject(("type", .string("boolean")))),
                                                                                   ("text", schemaObject(("type", .string("string")))))),
                         ("required", .array([.string("note")]))),
        ])))
        #expect(try ByteVocabulary.run(schema, #"{"edit":-5}"#).complete)
        #expect(try ByteVocabulary.run(schema, #"{"note":true,"text":"x"}"#).complete)
        let wrong = #"{"edit":1,"text":"x"}"#
        #expect(try ByteVocabulary.run(schema, wrong).accepted == 9)
    }

    @Test func integersStayInRange() throws {
        let schema = schemaObject(("type", .string("integer")), ("minimum", .number(-20)), ("maximum", .number(150)))
        for value in [-20, -9, -1, 0, 7, 15, 99, 150] {
            #expect(try ByteVocabulary.run(schema, String(value)).complete, "\(value)")
        }
        for value in ["-21", "151", "200", "-0", "00", "1500"] {
            #expect(try !ByteVocabulary.run(schema, value).complete, "\(value)")
        }
    }
}
