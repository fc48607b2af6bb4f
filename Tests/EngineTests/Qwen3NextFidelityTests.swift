import Foundation
import Testing
@testable import Engine

/// qwen3next against its references (fixtures from Scripts/fixtures/qwen3next-fixtures.py): tiny random
/// `Qwen3NextForCausalLM` models in two configs, converted by llama.cpp's converter, compared with transformers'
/// logits at every position (within 1e-3 × the logit range, the same top-1 wherever the reference's top-2 margin
/// exceeds that) and its 16 greedy tokens; with llama.cpp's logits on the same files (cosine ≥ 0.99, the same top-1
/// on ≥ 95 % of positions); and the legacy `ssm_in` layout against the split `attn_qkv`/`attn_gate` one.
@Suite("qwen3next fidelity (tiny F32 models)")
struct Qwen3NextFidelityTests {
    /// Fixture name → the fixture whose reference data it shares (the legacy layout is config A rewritten).
    static let models = ["qwen3next-a": "qwen3next-a", "qwen3next-b": "qwen3next-b",
                         "qwen3next-a-ssm-in": "qwen3next-a"]

    /// The llama.cpp part of a fixture's JSON.
    struct LlamaReference: Decodable {
        var llama_logits_file: String
        var logits_shape: [Int]
    }

    static func model(_ name: String) throws -> (LoadedModel, ModelFixture) {
        let reference = try ModelFixture.named(try #require(models[name]))
        let path = ModelFixture.directory.appendingPathComponent("\(name).gguf").path
        return (try loadFixtureModel(path), reference)
    }

    @Test("logits at every position against transformers", arguments: models.keys.sorted())
    func logits(name: String) throws {
        let (loaded, fixture) = try Self.model(name)
        #expect(loaded.model.properties.architecture == "qwen3next")
        let reference = try fixture.logits()
        var worst: Float = 0
        var checkedTop1 = 0
        for (s, tokens) in fixture.sequences.enumerated() {
            let ours = try allLogits(loaded.model, tokens)
            #expect(ours.count == tokens.count)
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

    @Test("16 greedy tokens up to transformers' first near-tie", arguments: models.keys.sorted())
    func greedyTokens(name: String) throws {
        let (loaded, fixture) = try Self.model(name)
        let runs = try #require(fixture.greedy)
        var compared = 0
        for (s, tokens) in fixture.sequences.enumerated() {
            let ref = runs[s]
            let ours = try greedy(loaded.model, prompt: tokens, count: ref.ids.count)
            for step in ref.ids.indices {
                if ref.margins[step] <= 1e-3 * ref.ranges[step] { break }
                #expect(ours[step] == ref.ids[step], "\(name) sequence \(s) step \(step): \(ours[step]) ≠ \(ref.ids[step])")
                compared += 1
                if ours[step] != ref.ids[step] { break }
            }
        }
        #expect(compared >= 16, "expected at least one full sequence of greedy tokens to compare")
    }

    @Test("against llama.cpp on the same file", arguments: ["qwen3next-a", "qwen3next-b"])
    func llama(name: String) throws {
        let (loaded, fixture) = try Self.model(name)
        let data = try Data(contentsOf: ModelFixture.directory.appendingPathComponent("\(name).json"))
        let meta = try JSONDecoder().decode(LlamaReference.self, from: data)
        let raw = try Data(contentsOf: ModelFixture.directory.appendingPathComponent(meta.llama_logits_file))
        let floats = raw.withUnsafeBytes { bytes in
            (0..<(bytes.count / 4)).map {
                Float(bitPattern: bytes.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self).littleEndian)
            }
        }
        let (p, v) = (meta.logits_shape[1], meta.logits_shape[2])
        #expect(floats.count == fixture.sequences.count * p * v)
        var minCosine = 1.0
        var agree = 0, total = 0
        for (s, tokens) in fixture.sequences.enumerated() {
            let ours = try allLogits(loaded.model, tokens)
            for (i, row) in ours.enumerated() {
                let ref = Array(floats[((s * p + i) * v)..<((s * p + i + 1) * v)])
                var dot = 0.0, a = 0.0, b = 0.0
                for j in 0..<v {
                    dot += Double(row[j]) * Double(ref[j])
                    a += Double(row[j]) * Double(row[j])
                    b += Double(ref[j]) * Double(ref[j])
                }
                minCosine = min(minCosine, dot / (a.squareRoot() * b.squareRoot()))
                total += 1
                if argmax(row) == argmax(ref) { agree += 1 }
            }
        }
        #expect(minCosine >= 0.99)
        #expect(Double(agree) >= 0.95 * Double(total))
        print("\(name) vs llama.cpp: min cosine \(minCosine), top-1 agreement \(agree)/\(total)")
    }

    @Test("the legacy ssm_in layout gives the split layout's logits")
    func layouts() throws {
        let fixture = try ModelFixture.named("qwen3next-a")
        let split = try loadFixtureModel(fixture.modelPath).model
        let fused = try Self.model("qwen3next-a-ssm-in").0.model
        for tokens in fixture.sequences {
            let a = try allLogits(split, tokens), b = try allLogits(fused, tokens)
            // The same weight rows in another order: each output is the same kernel call, so the same bits.
            #expect(a.map { $0.map(\.bitPattern) } == b.map { $0.map(\.bitPattern) })
        }
    }

    @Test("quantized (llama-quantize Q4_K_M) against llama.cpp: cosine ≥ 0.99 everywhere, top-1 on ≥ 95 %")
    func quantized() throws {
        let fixture = try ModelFixture.named("qwen3next-q-q4_k_m")
        let loaded = try loadFixtureModel(fixture.modelPath)
        let reference = try fixture.logits()
        var positions = 0, agree = 0
        var lowest = 1.0
        for (s, tokens) in fixture.sequences.enumerated() {
            for (p, row) in try allLogits(loaded.model, tokens).enumerated() {
                let ref = reference[s][p]
                var dot = 0.0, a = 0.0, b = 0.0
                for (x, y) in zip(row, ref) {
                    dot += Double(x) * Double(y)
                    a += Double(x) * Double(x)
                    b += Double(y) * Double(y)
                }
                let cosine = dot / (a.squareRoot() * b.squareRoot())
                lowest = min(lowest, cosine)
                #expect(cosine >= 0.99, "sequence \(s) position \(p): cosine \(cosine)")
                positions += 1
                if argmax(row) == argmax(ref) { agree += 1 }
            }
        }
        #expect(Double(agree) >= 0.95 * Double(positions), "top-1 agrees on \(agree) of \(positions) positions")
        print("qwen3next-q-q4_k_m vs llama.cpp: lowest cosine \(lowest), top-1 agreement \(agree)/\(positions)")
    }
}
