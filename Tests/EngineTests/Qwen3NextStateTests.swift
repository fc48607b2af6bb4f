import Foundation
import Kernels
import Testing
@testable import Engine

/// qwen3next's per-sequence state: the recurrent (token-by-token) and chunked forms of the delta rule agree, the
/// state can go back to a snapshot (and only to one), and the memory it reports matches what it holds.
@Suite("qwen3next state and prefill forms")
struct Qwen3NextStateTests {
    /// Every position's logits when `tokens` are fed `chunk` at a time.
    static func logits(_ model: any LanguageModel, _ tokens: [Int32], chunk: Int) throws -> [[Float]] {
        let state = try model.makeState(capacity: tokens.count + 1)
        let v = model.properties.vocabularySize
        var rows: [[Float]] = []
        for start in stride(from: 0, to: tokens.count, by: chunk) {
            let part = Array(tokens[start..<min(start + chunk, tokens.count)])
            let flat = try model.forward([ForwardItem(state: state, tokens: part)], allPositions: true)[0]
            rows += (0..<part.count).map { Array(flat[($0 * v)..<(($0 + 1) * v)]) }
        }
        #expect(state.length == tokens.count)
        return rows
    }

    @Test("prefill in chunks of 1, 7 and 64 tokens matches one call within 1e-4 × range",
          arguments: ["qwen3next-a", "qwen3next-b"])
    func chunkSizes(name: String) throws {
        let fixture = try ModelFixture.named(name)
        let model = try loadFixtureModel(fixture.modelPath).model
        // Two sequences back to back: 144 tokens, so the one-call run has chunks of 64, 64 and 16.
        let tokens = fixture.sequences[0] + fixture.sequences[1]
        let whole = try allLogits(model, tokens)
        for chunk in [1, 7, 64] {
            let parts = try Self.logits(model, tokens, chunk: chunk)
            var worst: Float = 0
            for (p, row) in parts.enumerated() {
                let ref = whole[p]
                let range = (ref.max() ?? 0) - (ref.min() ?? 0)
                let diff = zip(row, ref).map { abs($0 - $1) }.max() ?? .infinity
                worst = max(worst, diff / range)
                #expect(diff <= 1e-4 * range, "\(name) chunk \(chunk) position \(p): \(diff) > 1e-4 × \(range)")
            }
            print("\(name): chunks of \(chunk) vs one call: worst max-abs-diff / range = \(worst)")
        }
    }

    @Test("a snapshot at a chunk boundary resumes bit-identically")
    func snapshot() throws {
        let fixture = try ModelFixture.named("qwen3next-a")
        let model = try loadFixtureModel(fixture.modelPath).model
        let tokens = fixture.sequences[0] + fixture.sequences[1]
        let state = try #require(try model.makeState(capacity: 200) as? HybridSequenceState)
        _ = try model.forward([ForwardItem(state: state, tokens: Array(tokens[0..<64]))], allPositions: false)
        state.takeSnapshot()
        let tail = Array(tokens[64...])
        let first = try model.forward([ForwardItem(state: state, tokens: tail)], allPositions: true)[0]
        #expect(state.length == tokens.count)
        try state.truncate(to: 64)
        #expect(state.length == 64)
        let again = try model.forward([ForwardItem(state: state, tokens: tail)], allPositions: true)[0]
        #expect(again.map(\.bitPattern) == first.map(\.bitPattern))
        // A fresh run of the whole sequence gives the same bits: chunks are aligned to absolute positions.
        let fresh = try model.makeState(capacity: 200)
        let whole = try model.forward([ForwardItem(state: fresh, tokens: tokens)], allPositions: true)[0]
        let v = model.properties.vocabularySize
        #expect(Array(whole[(64 * v)...]).map(\.bitPattern) == first.map(\.bitPattern))
    }

    @Test("truncate only to a snapshot point, to 0 or to the current length")
    func truncateRules() throws {
        let fixture = try ModelFixture.named("qwen3next-b")
        let model = try loadFixtureModel(fixture.modelPath).model
        let tokens = fixture.sequences[2]
        let state = try #require(try model.makeState(capacity: 100) as? HybridSequenceState)
        _ = try model.forward([ForwardItem(state: state, tokens: Array(tokens[0..<10]))], allPositions: false)
        state.takeSnapshot()
        _ = try model.forward([ForwardItem(state: state, tokens: Array(tokens[10..<20]))], allPositions: false)
        #expect(state.snapshotLengths == [0, 10])
        #expect(throws: EngineError.self) { try state.truncate(to: 15) }
        #expect(throws: EngineError.self) { try state.truncate(to: 21) }
        try state.truncate(to: 20)
        #expect(state.length == 20)
        try state.truncate(to: 10)
        #expect(state.length == 10)
        // Going back to 0 gives a fresh state: the same logits as a new one.
        try state.truncate(to: 0)
        #expect(state.length == 0)
        let reused = try model.forward([ForwardItem(state: state, tokens: tokens)], allPositions: false)[0]
        let fresh = try model.forward([ForwardItem(state: try model.makeState(capacity: 100), tokens: tokens)],
                                      allPositions: false)[0]
        #expect(reused.map(\.bitPattern) == fresh.map(\.bitPattern))
        // Discarded snapshots are no longer truncation points.
        state.takeSnapshot()
        _ = try model.forward([ForwardItem(state: state, tokens: [1, 2, 3])], allPositions: false)
        #expect(state.snapshotLengths == [0, tokens.count])
        state.discardSnapshots()
        #expect(state.snapshotLengths == [0])
        #expect(throws: EngineError.self) { try state.truncate(to: tokens.count) }
    }

    @Test("memory admission counts the KV cache and the recurrent state")
    func properties() throws {
        let fixture = try ModelFixture.named("qwen3next-a")
        let model = try #require(try loadFixtureModel(fixture.modelPath).model as? Qwen3NextModel)
        // Config A (Scripts/fixtures/qwen3next-fixtures.py): 8 layers, every 4th attention; 2 KV heads of 16;
        // 2 linear key heads and 4 value heads of 8, conv kernel 4.
        let attention = 2, linear = 6
        #expect(model.properties.cacheBytesPerToken == attention * 2 * 2 * 16 * 4)
        let convChannels = 2 * 2 * 8 + 4 * 8
        #expect(model.properties.fixedStateBytes == linear * (3 * convChannels + 4 * 8 * 8) * 4)
        let state = try #require(try model.makeState(capacity: 8) as? HybridSequenceState)
        let held = state.recurrent.reduce(0) { $0 + ($1.conv.count + $1.delta.count) * 4 }
        #expect(held == model.properties.fixedStateBytes)
    }
}

/// The two forms of the delta rule at Qwen3-Coder-Next's head sizes (dk = dv = 128), with decays from mild to
/// vanishing (g down to −60, where e^Γ underflows inside a chunk): the chunked form gives the recurrent form's outputs
/// and final state.
@Suite("qwen3next delta rule forms")
struct DeltaRuleFormTests {
    /// A fixed pseudo-random sequence in [−1, 1) (SplitMix64), so the test needs no data file.
    struct Numbers {
        var state: UInt64
        mutating func next() -> Float {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            return Float(z >> 40) / Float(1 << 23) - 1
        }
    }

    /// Random inputs for `tokens` tokens of `heads` heads — unit-length k and scaled unit-length q as the layer makes
    /// them, β in [0.5, 1), the decay `decay(r)` of a uniform r — and a non-zero starting state (as after an earlier
    /// chunk), all drawn from one `Numbers` stream in that order.
    static func randomInputs(tokens: Int, heads: Int, dk: Int, dv: Int, seed: UInt64, decay: (Float) -> Float)
        -> (DeltaRule.Inputs, [Float])
    {
        var numbers = Numbers(state: seed)
        var inputs = DeltaRule.Inputs(tokens: tokens, heads: heads, keyDimension: dk, valueDimension: dv)
        for t in 0..<tokens {
            for j in 0..<heads {
                for (offset, scale) in [(inputs.q, 1 / Float(dk).squareRoot()), (inputs.k, 1)] {
                    let base = offset + (t * heads + j) * dk
                    var sum: Float = 0
                    for i in 0..<dk {
                        inputs.storage[base + i] = numbers.next()
                        sum += inputs.storage[base + i] * inputs.storage[base + i]
                    }
                    for i in 0..<dk { inputs.storage[base + i] *= scale / sum.squareRoot() }
                }
                for i in 0..<dv { inputs.storage[inputs.v + (t * heads + j) * dv + i] = numbers.next() }
                inputs.storage[inputs.beta + t * heads + j] = 0.5 + 0.5 * numbers.next()
                inputs.storage[inputs.g + t * heads + j] = decay(numbers.next())
            }
        }
        let state = (0..<(heads * dk * dv)).map { _ in 0.1 * numbers.next() }
        return (inputs, state)
    }

    @Test("chunked equals recurrent at real head sizes", arguments: [0.1, 3.0, 60.0] as [Float])
    func forms(decayScale: Float) {
        let heads = 2, dk = 128, dv = 128, tokens = 64
        let rule = DeltaRule(heads: heads, keyDimension: dk, valueDimension: dv)
        let (inputs, start) = Self.randomInputs(tokens: tokens, heads: heads, dk: dk, dv: dv,
                                                seed: UInt64(decayScale * 1000)) { -decayScale * (1 + $0) / 2 }

        var chunkedState = start, chunked = [Float](repeating: 0, count: tokens * heads * dv)
        rule.run(inputs, start: 0, chunkLength: 64, state: &chunkedState, output: &chunked, outputRow: 0)
        var stepState = start, stepped = [Float](repeating: 0, count: tokens * heads * dv)
        for t in 0..<tokens {
            var one = DeltaRule.Inputs(tokens: 1, heads: heads, keyDimension: dk, valueDimension: dv)
            for (from, to, width) in [(inputs.q, one.q, dk), (inputs.k, one.k, dk), (inputs.v, one.v, dv),
                                      (inputs.beta, one.beta, 1), (inputs.g, one.g, 1)] {
                for i in 0..<(heads * width) { one.storage[to + i] = inputs.storage[from + t * heads * width + i] }
            }
            rule.run(one, start: t, chunkLength: 64, state: &stepState, output: &stepped, outputRow: t)
        }
        let scale = stepped.map(abs).max() ?? 0
        let outDiff = zip(chunked, stepped).map { abs($0 - $1) }.max() ?? .infinity
        let stateScale = stepState.map(abs).max() ?? 0
        let stateDiff = zip(chunkedState, stepState).map { abs($0 - $1) }.max() ?? .infinity
        #expect(scale > 0 && stateScale > 0)
        #expect(outDiff <= 1e-4 * scale, "outputs: \(outDiff) > 1e-4 × \(scale)")
        #expect(stateDiff <= 1e-4 * stateScale, "state: \(stateDiff) > 1e-4 × \(stateScale)")
        print("delta rule, decay scale \(decayScale): output diff / max \(outDiff / scale), state diff / max \(stateDiff / stateScale)")
    }
}
