import Engine
import Generation
import Testing
import Tokenizers

/// The compiler behind the engine's `ConstraintCompiler` hook, driven the way `BatchScheduler` drives it: prepare
/// with the remaining budget, the engine's own `Sampler` choosing among allowed ids, advance, stop when complete.
@Suite struct TokenConstraintAdapterTests {
    @Test func schedulerLoopWithTheEngineSamplerGivesValidAnswers() throws {
        let tokenizer = try ConstraintFixtures.syntheticTokenizer()
        let compiler = ConstraintCompilers.jsonSchema(for: tokenizer)
        var schemas = RandomSchemas(seed: 77)
        var generator = SeededGenerator(seed: 78)
        for index in 0..<60 {
            let schema = schemas.schema()
            let maxTokens = try ConstraintProgram(schema: schema).shortestAnswerBytes + Int.random(in: 0...40, using: &generator)
            guard var constraint = try compiler(.jsonSchema(name: "case-\(index)", schema: schema), tokenizer) else {
                Issue.record("the compiler declined a supported schema")
                continue
            }
            var sampler = Sampler(SamplingParameters(temperature: 1.5, seed: UInt64(index)))
            var bytes: [UInt8] = []
            var generated = 0
            while !constraint.isComplete, generated < maxTokens {
                constraint.prepare(remainingTokens: maxTokens - generated)
                let logits = (0..<tokenizer.vocabularySize).map { _ in Float(generator.normal()) }
                let allowed = constraint
                guard let token = sampler.next(logits, allowed: { allowed.allows($0) }) else {
                    Issue.record("no token allowed after \(String(decoding: bytes, as: UTF8.self).debugDescription)")
                    break
                }
                if tokenizer.isEndOfGeneration(token) { break }
                try constraint.advance(token)
                bytes += tokenizer.bytes(of: token)
                generated += 1
            }
            let text = String(decoding: bytes, as: UTF8.self)
            #expect(generated <= maxTokens)
            let parsed = try ParsedJSON.parse(bytes)
            #expect(IndependentValidator.violation(parsed, schema) == nil, "\(jsonText(schema)) → \(text)")
        }
    }

    @Test func unsupportedSchemasAreInvalidRequests() throws {
        let tokenizer = try ConstraintFixtures.syntheticTokenizer()
        let compiler = ConstraintCompilers.jsonSchema(for: tokenizer)
        do {
            _ = try compiler(.jsonSchema(name: "findings", schema: schemaObject(("type", .string("number")))), tokenizer)
            Issue.record("an unsupported schema compiled")
        } catch {
            guard case let .invalidRequest(_, reason) = error else {
                Issue.record("expected .invalidRequest, got \(error)")
                return
            }
            #expect(reason == "response schema 'findings': schema at '/type': type 'number' is not supported "
                + "(expected object, array, string, integer, boolean or null)")
        }
    }
}
