import Engine
import Foundation
import Generation
import Testing
import TestSupport
import Tokenizers

/// Issue 8's property test through the real engine path: a random-weight tiny `llama` GGUF (`RandomTinyLlama`)
/// loaded by `ModelLoader`, served by `LocalEngine` with the JSON-schema constraint compiler, sampling at temperature
/// 1.5; 100 random schemas from the subset × 10 generations, each with a `max_tokens` from the shortest possible
/// answer to a little more, so forced closing under a tight budget is as common as free sampling. Every answer must
/// end as a closed answer (never `length`), fit its budget, parse, and validate — judged by `IndependentValidator`
/// and by Python's `jsonschema`, neither of which shares code with the constraint compiler.
@Suite(.serialized) struct EngineConstrainedGenerationTests {
    @Test func randomWeightModelThousandGenerations() async throws {
        let directory = try TemporaryDirectory(prefix: "sparrow-tiny-llama")
        defer { directory.remove() }
        let path = directory.url.appendingPathComponent("random-tiny-llama.gguf")
        try RandomTinyLlama.write(to: path, seed: 2026)
        let loaded = try ModelLoader.load(path: path.path, threads: 1)
        let tokenizer = loaded.tokenizer.tokenizer
        #expect(tokenizer.vocabularySize == RandomTinyLlama.vocabulary().tokens.count)
        let engine = LocalEngine(
            languageModel: loaded.model, tokenizer: tokenizer, chatTemplate: nil, identity: loaded.identity,
            settings: .init(contextLength: 1024, parallel: 10, prefillChunk: 16),
            constraintCompiler: ConstraintCompilers.jsonSchema(for: tokenizer)
        )

        var schemas = RandomSchemas(seed: 1_008)
        var generator = SeededGenerator(seed: 1_009)
        var pairs: [String] = []
        var generations = 0
        var tokens = 0
        var wholeBudget = 0
        var multiByteCharacters = 0
        let prompts = ["Answer in JSON: ", "{\"task\": \"review\", \"text\": \"日本 é 😀\"}\n", "fix parseRange\n"]
        for schemaIndex in 0..<100 {
            let schema = schemas.schema()
            let shortest = try ConstraintProgram(schema: schema).shortestAnswerBytes
            let requests = (0..<10).map { index in
                GenerationRequest(
                    id: "s\(schemaIndex)-\(index)", prompt: .text(prompts[(schemaIndex + index) % prompts.count]),
                    maxTokens: max(1, shortest + Int.random(in: 0...24, using: &generator)),
                    sampling: SamplingParameters(temperature: 1.5, seed: generator.next()),
                    constraint: .jsonSchema(name: "case-\(schemaIndex)", schema: schema)
                )
            }
            // The ten requests of a schema run together: the scheduler batches them, as in a real run.
            let responses = try await withThrowingTaskGroup(of: (Int, GenerationResponse).self) { group in
                for (index, request) in requests.enumerated() {
                    group.addTask { (index, try await engine.generate(request)) }
                }
                var collected = [GenerationResponse?](repeating: nil, count: requests.count)
                for try await (index, response) in group { collected[index] = response }
                return collected
            }
            for (request, response) in zip(requests, responses) {
                guard let response else { continue }
                generations += 1
                tokens += response.usage.completionTokens
                if response.usage.completionTokens == request.maxTokens { wholeBudget += 1 }
                if response.text.unicodeScalars.contains(where: { $0.value > 0x7F }) { multiByteCharacters += 1 }
                let described = "\(request.id) (max_tokens \(request.maxTokens)): \(response.text.debugDescription)"
                #expect(response.finishReason == .endOfText, "cut off: \(described)")
                #expect(response.usage.completionTokens <= request.maxTokens, "over budget: \(described)")
                do {
                    let parsed = try ParsedJSON.parse(Array(response.text.utf8))
                    if let problem = IndependentValidator.violation(parsed, schema) {
                        Issue.record("\(problem)\nschema: \(jsonText(schema))\nanswer: \(described)")
                    }
                } catch {
                    Issue.record("does not parse (\(error)): \(described)\nschema: \(jsonText(schema))")
                }
                pairs.append("{\"schema\":\(jsonText(schema)),\"answer\":\(jsonText(.string(response.text)))}")
            }
        }
        #expect(generations == 1_000)
        // The seeds are fixed; these say the run exercised what it is meant to, not what the answers are.
        #expect(wholeBudget > 0, "no answer was closed by the budget")
        #expect(multiByteCharacters > 0, "no answer held a multi-byte character")
        try validateWithPythonJSONSchema(pairs)
        print("""
            constraints[random tiny llama through LocalEngine]: \(generations) generations, \(tokens) tokens, \
            \(wholeBudget) used their whole max_tokens, \(multiByteCharacters) hold non-ASCII characters
            """)
    }
}
