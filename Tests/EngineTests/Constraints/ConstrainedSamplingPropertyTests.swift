import Engine
import Foundation
import Generation
import Testing
import TestSupport
import Tokenizers

/// Issue 8's property test: random schemas from the subset, a fake model with random logits at temperature 1.5,
/// 1,000 generations per vocabulary; every answer must parse and validate, judged by two readers the compiler
/// never saw: Foundation's `JSONDecoder` with `IndependentValidator`, and Python's `jsonschema` (Draft 2020-12).
@Suite(.serialized) struct ConstrainedSamplingPropertyTests {
    struct Statistics {
        var generations = 0
        var tokens = 0
        var maskSeconds = 0.0
        var coldMasks = 0
        var forcedClosings = 0
        var pairs: [String] = []
    }

    @Test func syntheticVocabularyThousandGenerations() throws {
        let statistics = try run(tokenizer: try ConstraintFixtures.syntheticTokenizer(), schemas: 100, perSchema: 10, seed: 8)
        report("synthetic vocabulary", statistics)
    }

    @Test func qwenVocabularyThousandGenerations() throws {
        let loadStart = DispatchTime.now().uptimeNanoseconds
        let tokenizer = try ConstraintFixtures.qwenTokenizer()
        #expect(tokenizer.vocabularySize == 151_936)
        let trieStart = DispatchTime.now().uptimeNanoseconds
        let trie = TokenTrie(tokenizer: tokenizer)
        let trieEnd = DispatchTime.now().uptimeNanoseconds
        print("constraints[Qwen vocabulary]: vocabulary loaded in \(Double(trieStart - loadStart) / 1e9) s, trie of \(trie.nodeCount) nodes "
            + "(longest token \(trie.maximumTokenLength) bytes) built in \(Double(trieEnd - trieStart) / 1e9) s")
        #expect(trie.endOfGeneration.count == 2)
        let statistics = try run(tokenizer: tokenizer, schemas: 100, perSchema: 10, seed: 151_936)
        report("Qwen vocabulary", statistics)
    }

    private func report(_ name: String, _ statistics: Statistics) {
        let perToken = statistics.maskSeconds / Double(max(1, statistics.tokens)) * 1e6
        print("""
            constraints[\(name)]: \(statistics.generations) generations, \(statistics.tokens) tokens, \
            mask \(String(format: "%.1f", perToken)) µs/token on average (this build), \
            \(statistics.forcedClosings) answers closed by the budget
            """)
    }

    private func run(tokenizer: Tokenizer, schemas: Int, perSchema: Int, seed: UInt64) throws -> Statistics {
        let trie = TokenTrie(tokenizer: tokenizer)
        var generator = SeededGenerator(seed: seed)
        var sampler = FakeSampler(vocabularySize: trie.vocabularySize, temperature: 1.5, seed: seed ^ 0xF00D)
        var randomSchemas = RandomSchemas(seed: seed)
        var statistics = Statistics()
        for schemaIndex in 0..<schemas {
            let schema = randomSchemas.schema()
            let program: ConstraintProgram
            do { program = try ConstraintProgram(schema: schema) } catch {
                Issue.record("schema \(schemaIndex) did not compile: \(error)\n\(jsonText(schema))")
                continue
            }
            let shortest = program.shortestAnswerBytes
            let session = try ConstraintSession(program: program, trie: trie, maxTokens: shortest)
            for _ in 0..<perSchema {
                // Budgets from "just enough" to roomy, so forced closing is exercised as often as free sampling.
                let budget = shortest + Int.random(in: 0...120, using: &generator)
                try session.reset(maxTokens: budget)
                sampler.shuffle(using: &generator)
                let start = DispatchTime.now().uptimeNanoseconds
                let answer = try generateConstrained(session: session, sampler: sampler, generator: &generator)
                statistics.maskSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                statistics.generations += 1
                statistics.tokens += answer.tokens
                if answer.tokens >= budget - 1 { statistics.forcedClosings += 1 }
                let text = String(decoding: answer.bytes, as: UTF8.self)
                #expect(!answer.deadEnd, "schema \(schemaIndex): no token allowed after \(text.debugDescription)")
                #expect(answer.tokens <= budget, "schema \(schemaIndex): \(answer.tokens) tokens > max_tokens \(budget)")
                #expect(session.canEnd, "schema \(schemaIndex): answer not complete: \(text.debugDescription)")
                do {
                    let parsed = try ParsedJSON.parse(answer.bytes)
                    if let problem = IndependentValidator.violation(parsed, schema) {
                        Issue.record("schema \(schemaIndex): \(problem)\nschema: \(jsonText(schema))\nanswer: \(text)")
                    }
                } catch {
                    Issue.record("schema \(schemaIndex): answer does not parse (\(error)): \(text.debugDescription)")
                }
                statistics.pairs.append("{\"schema\":\(jsonText(schema)),\"answer\":\(jsonText(.string(text)))}")
            }
        }
        try validateWithPython(statistics.pairs)
        return statistics
    }

    /// Runs Scripts/fixtures/constraints_validate.py (jsonschema from the setup venv) over every answer.
    private func validateWithPython(_ pairs: [String]) throws {
        let python = ConstraintFixtures.venvPython
        guard FileManager.default.isExecutableFile(atPath: python.path) else {
            Issue.record("no Python venv at \(python.path): run Scripts/setup (it installs check-jsonschema, which brings jsonschema)")
            return
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-constraints-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data((pairs.joined(separator: "\n") + "\n").utf8).write(to: file)
        let script = ConstraintFixtures.scripts.appendingPathComponent("constraints_validate.py")
        let result = try runProcess(python, arguments: [script.path, file.path], watchdogSeconds: 300)
        #expect(result.exitCode == 0, "jsonschema rejected answers:\n\(result.standardOutput.prefix(4000))\(result.standardError.prefix(2000))")
        #expect(result.standardOutput.contains("\(pairs.count)/\(pairs.count) valid"), "\(result.standardOutput.suffix(500))")
    }
}
