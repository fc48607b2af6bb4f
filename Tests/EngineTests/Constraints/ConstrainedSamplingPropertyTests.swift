import Engine
import Foundation
import Generation
import Testing
import TestSupport
import Tokenizers

/// Issue 8's property test: random schemas from the subset, a fake model with random logits at temperature 1.5,
/// 1,000 generations per vocabulary; every answer must parse and validate, judged by two readers the compiler
/// never saw: Foundation's `JSONDecoder` with `IndependentValidator`, and Python's `jsonschema` (Draft 2020-12).
/// Mask cost is printed (no timing threshold).
@Suite(.serialized) struct ConstrainedSamplingPropertyTests {
    struct Statistics {
        var generations = 0
        var tokens = 0
        var maskCalls = 0
        var maskTime = Duration.zero
        var masks = ConstraintSession.MaskStatistics()
        var forcedClosings = 0
        var pairs: [String] = []
    }

    @Test func syntheticVocabularyThousandGenerations() throws {
        let statistics = try run(trie: TokenTrie(tokenizer: try ConstraintFixtures.syntheticTokenizer()), seed: 8)
        report("synthetic vocabulary", statistics)
    }

    @Test func qwenVocabularyThousandGenerations() throws {
        let loadStart = ContinuousClock.now
        let tokenizer = try ConstraintFixtures.qwenTokenizer()
        #expect(tokenizer.vocabularySize == 151_936)
        let trieStart = ContinuousClock.now
        let trie = TokenTrie(tokenizer: tokenizer)
        print("""
            constraints[Qwen vocabulary]: vocabulary loaded in \(trieStart - loadStart), trie of \(trie.nodeCount) nodes \
            (longest token \(trie.maximumTokenLength) bytes, \(trie.plainContentTokenCount) plain-content tokens) built in \
            \(ContinuousClock.now - trieStart)
            """)
        #expect(trie.endOfGeneration.contains(tokenizer.configuration.eosID ?? -1))
        let statistics = try run(trie: trie, seed: 151_936)
        report("Qwen vocabulary", statistics)
    }

    private func report(_ name: String, _ statistics: Statistics) {
        let seconds = Double(statistics.maskTime.components.seconds) + Double(statistics.maskTime.components.attoseconds) / 1e18
        let perCall = seconds / Double(max(1, statistics.maskCalls)) * 1e6
        let masks = statistics.masks
        print("""
            constraints[\(name)]: \(statistics.generations) generations, \(statistics.tokens) tokens, \(statistics.maskCalls) masks, \
            \(String(format: "%.1f", perCall)) µs per mask on average (this build); masks cached \(masks.cached), computed \
            \(masks.computed), budget-limited \(masks.budgetLimited), substring (uncached) \(masks.uncached), trivial \(masks.trivial); \
            \(statistics.forcedClosings) answers used their whole budget
            """)
    }

    /// 100 random schemas × 10 generations, budgets from "just enough" to roomy so forced closing is exercised as
    /// often as free sampling.
    private func run(trie: TokenTrie, seed: UInt64, schemas: Int = 100, perSchema: Int = 10) throws -> Statistics {
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
                let budget = shortest + Int.random(in: 0...120, using: &generator)
                try session.reset(maxTokens: budget)
                sampler.shuffle(using: &generator)
                let answer = try generateConstrained(session: session, sampler: sampler, generator: &generator, maskTime: &statistics.maskTime)
                statistics.generations += 1
                statistics.tokens += answer.tokens
                if answer.tokens == budget { statistics.forcedClosings += 1 }
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
            let counts = session.statistics
            statistics.maskCalls += counts.calls
            statistics.masks.cached += counts.cached
            statistics.masks.computed += counts.computed
            statistics.masks.budgetLimited += counts.budgetLimited
            statistics.masks.uncached += counts.uncached
            statistics.masks.trivial += counts.trivial
        }
        try validateWithPythonJSONSchema(statistics.pairs)
        return statistics
    }
}
