import Foundation
import Testing
@testable import Engine

/// The tiny qwen3moe quantized by llama-quantize (Q8_0, Q4_K_M) against llama.cpp's logits on the same files
/// (F32 KV cache, flash attention off): cosine similarity ≥ 0.99 at every position, the same top-1 on ≥ 95 %.
@Suite("Fidelity against llama.cpp (quantized qwen3moe)")
struct QuantizedFidelityTests {
    @Test("cosine ≥ 0.99 everywhere, top-1 agreement ≥ 95 %", arguments: ["qwen3moe-q-q8_0", "qwen3moe-q-q4_k_m"])
    func quantized(name: String) throws {
        let fixture = try ModelFixture.named(name)
        let loaded = try loadFixtureModel(fixture.modelPath)
        let reference = try fixture.logits()
        var positions = 0, agree = 0
        var lowest = 1.0
        for (s, tokens) in fixture.sequences.enumerated() {
            let ours = try allLogits(loaded.model, tokens)
            for (p, row) in ours.enumerated() {
                let ref = reference[s][p]
                var dot = 0.0, a = 0.0, b = 0.0
                for (x, y) in zip(row, ref) {
                    dot += Double(x) * Double(y)
                    a += Double(x) * Double(x)
                    b += Double(y) * Double(y)
                }
                let cosine = dot / (a.squareRoot() * b.squareRoot())
                lowest = min(lowest, cosine)
                #expect(cosine >= 0.99, "\(name) sequence \(s) position \(p): cosine \(cosine)")
                positions += 1
                if argmax(row) == argmax(ref) { agree += 1 }
            }
        }
        let share = Double(agree) / Double(positions)
        #expect(share >= 0.95, "\(name): top-1 agrees on \(agree) of \(positions) positions")
        print("\(name): lowest cosine \(lowest), top-1 agreement \(agree)/\(positions)")
    }
}
