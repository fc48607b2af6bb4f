import Foundation
import Testing
@testable import Engine

/// Tiny random F32 models against transformers' logits (fixtures from Scripts/make-fixtures.py): every position's
/// logits within 1e-3 × the reference's logit range, the same top-1 wherever the reference's top-2 margin exceeds that
/// tolerance, and the same 16 greedy tokens up to the reference's first near-tie.
@Suite("Fidelity against transformers (tiny F32 models)")
struct TransformersFidelityTests {
    static let models = ["llama", "qwen3", "qwen3moe-a", "qwen3moe-b"]

    @Test("logits at every position", arguments: models)
    func logits(name: String) throws {
        let fixture = try ModelFixture.named(name)
        let loaded = try loadFixtureModel(fixture.modelPath)
        #expect(loaded.model.properties.architecture == (name.hasPrefix("qwen3moe") ? "qwen3moe" : name))
        let reference = try fixture.logits()
        var worst: Float = 0
        var checkedTop1 = 0
        for (s, tokens) in fixture.sequences.enumerated() {
            let ours = try allLogits(loaded.model, tokens)
            for (p, row) in ours.enumerated() {
                let ref = reference[s][p]
                #expect(row.count == ref.count)
                let range = (ref.max() ?? 0) - (ref.min() ?? 0)
                let tolerance = 1e-3 * range
                let diff = zip(row, ref).map { abs($0 - $1) }.max() ?? .infinity
                worst = max(worst, diff / range)
                #expect(diff <= tolerance, "\(name) sequence \(s) position \(p): max abs diff \(diff) > \(tolerance)")
                if topTwoMargin(ref) > tolerance {
                    checkedTop1 += 1
                    #expect(argmax(row) == argmax(ref), "\(name) sequence \(s) position \(p): top-1 differs")
                }
            }
        }
        #expect(checkedTop1 > 0)
        print("\(name): worst max-abs-diff / logit range = \(worst), top-1 checked at \(checkedTop1) positions")
    }

    @Test("16 greedy tokens up to the reference's first near-tie", arguments: models)
    func greedyTokens(name: String) throws {
        let fixture = try ModelFixture.named(name)
        let loaded = try loadFixtureModel(fixture.modelPath)
        let runs = try #require(fixture.greedy)
        var compared = 0
        for (s, tokens) in fixture.sequences.enumerated() {
            let ref = runs[s]
            let ours = try greedy(loaded.model, prompt: tokens, count: ref.ids.count)
            for step in ref.ids.indices {
                // A near-tie: the reference's top-2 margin within the logit tolerance; later tokens may differ.
                if ref.margins[step] <= 1e-3 * ref.ranges[step] { break }
                #expect(ours[step] == ref.ids[step], "\(name) sequence \(s) step \(step): \(ours[step]) ≠ \(ref.ids[step])")
                compared += 1
                if ours[step] != ref.ids[step] { break }
            }
        }
        #expect(compared >= 16, "expected at least one full sequence of greedy tokens to compare")
    }
}
