import Engine
import Foundation
import Generation
import Testing
import Tokenizers

/// Mask cost per generated token on the Qwen vocabulary for the schemas Sparrow actually sends: review findings,
/// and search/replace edits whose SEARCH side must be a substring of the edited file. Prints numbers, asserts
/// only correctness (no timing thresholds). Run in release for meaningful figures:
/// `swift test -c release -Xswiftc -enable-testing --filter MaskCostBenchmarkTests`.
@Suite(.serialized) struct MaskCostBenchmarkTests {
    static let findings = schemaObject(
        ("type", .string("object")),
        ("properties", schemaObject(("findings", schemaObject(
            ("type", .string("array")), ("maxItems", .number(20)),
            ("items", schemaObject(
                ("type", .string("object")),
                ("properties", schemaObject(
                    ("file", schemaObject(("type", .string("string")), ("maxLength", .number(200)))),
                    ("line", schemaObject(("type", .string("integer")), ("minimum", .number(1)))),
                    ("end_line", schemaObject(("type", .string("integer")), ("minimum", .number(1)))),
                    ("severity", schemaObject(("enum", .array([.string("error"), .string("warning"), .string("note")])))),
                    ("rule", schemaObject(("type", .string("string")), ("pattern", .string("^[a-z][a-z0-9-]*$")), ("maxLength", .number(64)))),
                    ("message", schemaObject(("type", .string("string")), ("minLength", .number(1)), ("maxLength", .number(1000)))),
                    ("suggestion", schemaObject(("type", .string("string"))))
                )),
                ("required", .array([.string("file"), .string("line"), .string("severity"), .string("message")])),
                ("additionalProperties", .bool(false))
            ))
        )))),
        ("required", .array([.string("findings")])),
        ("additionalProperties", .bool(false))
    )

    static func edits(of file: String) -> JSONValue {
        schemaObject(
            ("type", .string("object")),
            ("properties", schemaObject(("edits", schemaObject(
                ("type", .string("array")), ("minItems", .number(1)), ("maxItems", .number(5)),
                ("items", schemaObject(
                    ("type", .string("object")),
                    ("properties", schemaObject(
                        ("search", schemaObject(("type", .string("string")), ("minLength", .number(1)), ("x-sparrow-substring-of", .string(file)))),
                        ("replace", schemaObject(("type", .string("string"))))
                    )),
                    ("required", .array([.string("search"), .string("replace")]))
                ))
            )))),
            ("required", .array([.string("edits")]))
        )
    }

    @Test func reviewFindingsAndSearchReplaceEdits() throws {
        let trie = TokenTrie(tokenizer: try ConstraintFixtures.qwenTokenizer())
        let source = ConstraintFixtures.scripts.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/Tokenizers/Tokenizer.swift")
        let file = try String(contentsOf: source, encoding: .utf8)
        for (name, schema) in [("review findings", Self.findings), ("search/replace edits (\(file.utf8.count)-byte file)", Self.edits(of: file))] {
            let compileStart = ContinuousClock.now
            let program = try ConstraintProgram(schema: schema)
            let compileTime = ContinuousClock.now - compileStart
            let session = try ConstraintSession(program: program, trie: trie, maxTokens: 512)
            var generator = SeededGenerator(seed: 2026)
            var sampler = FakeSampler(vocabularySize: trie.vocabularySize, temperature: 1.5, seed: 11)
            var times: [Duration] = []
            var tokens = 0
            for generation in 0..<40 {
                try session.reset(maxTokens: 512)
                sampler.shuffle(using: &generator)
                var maskTime = Duration.zero
                let answer = try generateConstrained(session: session, sampler: sampler, generator: &generator, maskTime: &maskTime)
                #expect(!answer.deadEnd && session.canEnd)
                let parsed = try ParsedJSON.parse(answer.bytes)
                #expect(IndependentValidator.violation(parsed, schema) == nil, "generation \(generation)")
                times.append(maskTime / max(1, answer.tokens + 1))
                tokens += answer.tokens
            }
            func microseconds(_ duration: Duration) -> String {
                String(format: "%.1f µs", Double(duration.components.seconds) * 1e6 + Double(duration.components.attoseconds) / 1e12)
            }
            let first = microseconds(times[0])
            let warm = microseconds(times.dropFirst().reduce(Duration.zero, +) / max(1, times.count - 1))
            let counts = session.statistics
            print("""
                constraints-benchmark[\(name)]: compile \(microseconds(compileTime)); mask per token: first answer \(first), \
                next 39 answers \(warm) on average; \(tokens) tokens; masks cached \(counts.cached), computed \
                \(counts.computed), budget-limited \(counts.budgetLimited), substring \(counts.uncached)
                """)
        }
    }
}
