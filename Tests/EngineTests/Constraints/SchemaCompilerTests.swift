import Engine
import Generation
import Testing

/// What the compiler refuses, and that each message names the place in the schema and what was expected.
@Suite struct SchemaCompilerTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let schema: JSONValue
        let pointer: String
        let phrase: String
        var testDescription: String { pointer + ": " + phrase }
    }

    static let unsupported: [Case] = [
        Case(schema: schemaObject(("type", .string("number"))), pointer: "/type", phrase: "type 'number' is not supported"),
        Case(schema: schemaObject(("type", .string("string")), ("format", .string("uri"))), pointer: "/format",
             phrase: "keyword 'format' is not supported"),
        Case(schema: schemaObject(("type", .string("object")), ("properties", schemaObject(("a", schemaObject(("anyOf", .array([]))))))),
             pointer: "/properties/a", phrase: "expected a 'type', 'enum', 'const' or 'oneOf'"),
        Case(schema: schemaObject(("type", .string("object")), ("properties", schemaObject(("a", schemaObject(("type", .string("string")))))),
                                  ("required", .array([.string("b")]))),
             pointer: "/required/0", phrase: "expected the name of a property"),
        Case(schema: schemaObject(("type", .string("array"))), pointer: "", phrase: "expected 'items'"),
        Case(schema: schemaObject(("type", .string("string")), ("pattern", .string("^(a$"))), pointer: "/pattern", phrase: "unclosed '('"),
        Case(schema: schemaObject(("type", .string("string")), ("pattern", .string("\\bword"))), pointer: "/pattern",
             phrase: "escape '\\b' is not supported"),
        Case(schema: schemaObject(("enum", .array([.number(1)]))), pointer: "/enum/0", phrase: "expected a string, boolean or null"),
        Case(schema: schemaObject(("oneOf", .array([schemaObject(("type", .string("string")))]))), pointer: "/oneOf/0",
             phrase: "first property is required"),
    ]

    @Test(arguments: unsupported)
    func unsupportedConstructsNameTheirPlace(_ testCase: Case) {
        let (schema, pointer, phrase) = (testCase.schema, testCase.pointer, testCase.phrase)
        do {
            _ = try ConstraintProgram(schema: schema)
            Issue.record("compiled: \(jsonText(schema))")
        } catch {
            guard case let .unsupported(where_, reason) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(where_ == pointer)
            #expect(reason.contains(phrase), "\(reason)")
            #expect(error.description.hasPrefix("schema at '\(pointer)': "))
        }
    }

    @Test(arguments: [
        schemaObject(("type", .string("integer")), ("minimum", .number(5)), ("maximum", .number(4))),
        schemaObject(("type", .string("integer")), ("exclusiveMinimum", .number(4)), ("exclusiveMaximum", .number(5))),
        schemaObject(("type", .string("string")), ("minLength", .number(3)), ("maxLength", .number(2))),
        schemaObject(("type", .string("string")), ("pattern", .string("^[a-z]{5}$")), ("maxLength", .number(4))),
        schemaObject(("type", .string("array")), ("items", schemaObject(("type", .string("null")))), ("minItems", .number(3)), ("maxItems", .number(1))),
    ])
    func unsatisfiableSchemasAreErrors(_ schema: JSONValue) {
        #expect(throws: SchemaConstraintError.self) { try ConstraintProgram(schema: schema) }
        do { _ = try ConstraintProgram(schema: schema) } catch {
            if case .unsatisfiable = error {} else { Issue.record("expected .unsatisfiable, got \(error)") }
        }
    }

    @Test func oneOfBranchesMustBeToldApartByTheirFirstKey() {
        let branch = schemaObject(("type", .string("object")), ("properties", schemaObject(("kind", schemaObject(("type", .string("string")))))),
                                  ("required", .array([.string("kind")])))
        #expect(throws: SchemaConstraintError.self) { try ConstraintProgram(schema: schemaObject(("oneOf", .array([branch, branch])))) }
    }

    @Test func shortestAnswersAreCounted() throws {
        #expect(try ConstraintProgram(schema: schemaObject(("type", .string("boolean")))).shortestAnswerBytes == 4)
        #expect(try ConstraintProgram(schema: schemaObject(("type", .string("integer")), ("minimum", .number(-50)), ("maximum", .number(-12)))).shortestAnswerBytes == 3)
        #expect(try ConstraintProgram(schema: schemaObject(("type", .string("string")), ("minLength", .number(2)))).shortestAnswerBytes == 4)
        #expect(try ConstraintProgram(schema: schemaObject(("type", .string("string")), ("pattern", .string("^\"{2}$")))).shortestAnswerBytes == 6)
        let object = schemaObject(("type", .string("object")), ("properties", schemaObject(("a", schemaObject(("type", .string("null")))),
                                                                                          ("bc", schemaObject(("type", .string("null")))))),
                                  ("required", .array([.string("bc")])))
        #expect(try ConstraintProgram(schema: object).shortestAnswerBytes == #"{"bc":null}"#.utf8.count)
    }
}
