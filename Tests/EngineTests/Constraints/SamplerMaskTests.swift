import Foundation
import Generation
import Testing
import Tokenizers
@testable import Engine

/// The sampler reading a constraint's bitmask word by word must choose exactly what it chose asking the
/// constraint per id: same seed, same tokens, for greedy and for every sampling rule.
@Suite struct SamplerMaskTests {
    static let parameterSets: [SamplingParameters] = [
        SamplingParameters(),
        SamplingParameters(temperature: 0.7, seed: 1),
        SamplingParameters(temperature: 1.5, seed: 2),
        SamplingParameters(temperature: 1.0, topK: 5, seed: 3),
        SamplingParameters(temperature: 1.2, topP: 0.9, seed: 4),
        SamplingParameters(temperature: 0.9, topP: 0.5, topK: 40, minP: 0.05, seed: 5),
    ]

    /// Logits with NaNs, −∞, +∞ and exact ties, over `count` entries.
    static func logits(_ count: Int, using generator: inout SeededGenerator) -> [Float] {
        (0..<count).map { _ in
            switch Int.random(in: 0..<100, using: &generator) {
            case 0: .nan
            case 1: -.infinity
            case 2: 7.5 // ties with each other
            case 3 where Int.random(in: 0..<50, using: &generator) == 0: .infinity
            default: Float(generator.normal() * 3)
            }
        }
    }

    /// A mask of `vocabularySize` ids with the given density (0: empty, 1: full).
    static func mask(_ vocabularySize: Int, density: Double, using generator: inout SeededGenerator) -> TokenMask {
        let mask = TokenMask(vocabularySize: vocabularySize)
        for id in 0..<vocabularySize where Double.random(in: 0..<1, using: &generator) < density { mask.insert(Int32(id)) }
        return mask
    }

    @Test func bitmaskAndPerIDPredicateChooseTheSameTokens() {
        var generator = SeededGenerator(seed: 42)
        // 1,000 ids, and logits 1,037 wide as when the output matrix has padding rows past the vocabulary.
        let vocabularySize = 1_000
        var compared = 0
        var nilAnswers = 0
        for parameters in Self.parameterSets {
            for density in [0.0, 0.001, 0.01, 0.3, 0.97, 1.0] {
                var perID = Sampler(parameters)
                var bitmask = Sampler(parameters)
                for _ in 0..<20 {
                    let logits = Self.logits(vocabularySize + 37, using: &generator)
                    let mask = Self.mask(vocabularySize, density: density, using: &generator)
                    let expected = perID.next(logits, allowed: { mask.contains($0) })
                    let actual = bitmask.next(logits, mask: mask)
                    #expect(actual == expected, "\(parameters), density \(density)")
                    if let actual { #expect(mask.contains(actual), "chose a masked-out id \(actual)") } else { nilAnswers += 1 }
                    compared += 1
                }
            }
        }
        #expect(compared == Self.parameterSets.count * 6 * 20)
        // The empty masks (and only they, here) leave nothing to choose.
        #expect(nilAnswers >= Self.parameterSets.count * 20)
    }

    @Test func noMaskMeansEveryID() {
        var generator = SeededGenerator(seed: 7)
        for parameters in Self.parameterSets {
            var plain = Sampler(parameters)
            var unmasked = Sampler(parameters)
            for _ in 0..<20 {
                let logits = Self.logits(500, using: &generator)
                #expect(plain.next(logits) == unmasked.next(logits, mask: nil))
            }
        }
    }

    /// Through the constraint hook the scheduler uses: a real schema's masks, the session's bitmask against its
    /// per-id answer, over whole answers (the two samplers must walk the same path).
    @Test func constraintSessionsGiveTheSameAnswersEitherWay() throws {
        let tokenizer = try ConstraintFixtures.syntheticTokenizer()
        let compiler = ConstraintCompilers.jsonSchema(for: tokenizer)
        var schemas = RandomSchemas(seed: 99)
        var generator = SeededGenerator(seed: 100)
        for index in 0..<30 {
            let schema = schemas.schema()
            let budget = try ConstraintProgram(schema: schema).shortestAnswerBytes + 30
            let parameters = Self.parameterSets[index % Self.parameterSets.count]
            guard var viaMask = try compiler(.jsonSchema(name: "m\(index)", schema: schema), tokenizer),
                  var viaPredicate = try compiler(.jsonSchema(name: "p\(index)", schema: schema), tokenizer) else {
                Issue.record("the compiler declined a supported schema")
                continue
            }
            var maskSampler = Sampler(parameters)
            var predicateSampler = Sampler(parameters)
            var generated = 0
            while !viaMask.isComplete, generated < budget {
                viaMask.prepare(remainingTokens: budget - generated)
                viaPredicate.prepare(remainingTokens: budget - generated)
                #expect(viaMask.allowedMask() != nil)
                let logits = (0..<tokenizer.vocabularySize).map { _ in Float(generator.normal() * 2) }
                let fromMask = maskSampler.next(logits, constraint: viaMask)
                let constraint = viaPredicate
                let fromPredicate = predicateSampler.next(logits, allowed: { constraint.allows($0) })
                #expect(fromMask == fromPredicate, "schema \(index), step \(generated)")
                guard let token = fromMask, fromMask == fromPredicate, !tokenizer.isEndOfGeneration(token) else { break }
                try viaMask.advance(token)
                try viaPredicate.advance(token)
                generated += 1
            }
        }
    }
}
