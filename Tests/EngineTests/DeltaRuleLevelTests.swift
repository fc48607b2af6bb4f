import Testing
@testable import Engine

/// The delta-rule kernels (CKernels `delta_rule.c`) at every SIMD level this CPU runs against the scalar reference:
/// each output is one chain of fused multiply-adds in a fixed order, so every level must give the reference's bits,
/// for the recurrent step and for chunks of every length up to 64, at real head sizes and at ragged ones that leave
/// partial vectors and partial row tiles.
@Suite("qwen3next delta rule levels")
struct DeltaRuleLevelTests {
    /// Random inputs for `tokens` tokens of `heads` heads (unit-length k, scaled unit-length q, as the layer makes
    /// them) and a non-zero starting state.
    static func inputs(tokens: Int, heads: Int, dk: Int, dv: Int, seed: UInt64)
        -> (DeltaRule.Inputs, [Float])
    {
        DeltaRuleFormTests.randomInputs(tokens: tokens, heads: heads, dk: dk, dv: dv, seed: seed) { -(1 + $0) }
    }

    /// Runs `tokens` through a fresh copy of `state` at `level`, starting at absolute position `start`.
    static func run(_ rule: DeltaRule, level: Int32, _ inputs: DeltaRule.Inputs, state: [Float], start: Int)
        -> (output: [Float], state: [Float])
    {
        var rule = rule
        rule.level = level
        var state = state
        var output = [Float](repeating: .nan, count: inputs.tokens * rule.heads * rule.valueDimension)
        rule.run(inputs, start: start, chunkLength: 64, state: &state, output: &output, outputRow: 0)
        return (output, state)
    }

    @Test("every level gives the scalar reference's bits",
          arguments: [(128, 128, 1), (128, 128, 64), (128, 128, 77), (24, 20, 1), (24, 20, 13), (40, 72, 70)])
    func levels(dk: Int, dv: Int, tokens: Int) {
        let heads = 3
        let rule = DeltaRule(heads: heads, keyDimension: dk, valueDimension: dv)
        let (inputs, start) = Self.inputs(tokens: tokens, heads: heads, dk: dk, dv: dv, seed: UInt64(dk * 1000 + tokens))
        // Start mid-chunk so that the first chunk is ragged too.
        let reference = Self.run(rule, level: 0, inputs, state: start, start: 5)
        #expect(reference.output.allSatisfy(\.isFinite) && reference.output.contains { $0 != 0 })
        #expect(reference.state != start)
        #expect(DeltaRule.availableLevels.first == 0)
        for level in DeltaRule.availableLevels.dropFirst() {
            let ours = Self.run(rule, level: level, inputs, state: start, start: 5)
            let outputSame = zip(ours.output, reference.output).allSatisfy { $0.bitPattern == $1.bitPattern }
            let stateSame = zip(ours.state, reference.state).allSatisfy { $0.bitPattern == $1.bitPattern }
            #expect(outputSame, "level \(level), dk \(dk), dv \(dv), \(tokens) tokens: outputs differ from scalar")
            #expect(stateSame, "level \(level), dk \(dk), dv \(dv), \(tokens) tokens: state differs from scalar")
        }
        print("delta rule levels \(DeltaRule.availableLevels) agree bit for bit at dk \(dk), dv \(dv), \(tokens) tokens")
    }

    @Test("a batch of sequences gives each sequence its own run's bits")
    func batch() {
        let heads = 2, dk = 128, dv = 128
        let rule = DeltaRule(heads: heads, keyDimension: dk, valueDimension: dv)
        // Three sequences in one run: 70 prefill tokens from position 0, one decode token at 12, 9 tokens at 60.
        let lengths = [70, 1, 9], starts = [0, 12, 60]
        let parts = lengths.enumerated().map { Self.inputs(tokens: $1, heads: heads, dk: dk, dv: dv, seed: UInt64($0 + 7)) }
        let total = lengths.reduce(0, +)
        var joined = DeltaRule.Inputs(tokens: total, heads: heads, keyDimension: dk, valueDimension: dv)
        var row = 0
        for (part, _) in parts {
            for (from, to, width) in [(part.q, joined.q, dk), (part.k, joined.k, dk), (part.v, joined.v, dv),
                                      (part.beta, joined.beta, 1), (part.g, joined.g, 1)] {
                let count = part.tokens * heads * width
                for i in 0..<count { joined.storage[to + row * heads * width + i] = part.storage[from + i] }
            }
            row += part.tokens
        }
        // Each sequence's state in its own buffer, as each sequence state object holds its own.
        let buffers = parts.map { part in
            let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: part.1.count)
            _ = buffer.initialize(from: part.1)
            return buffer
        }
        defer { buffers.forEach { $0.deallocate() } }
        var items: [DeltaRule.Item] = []
        var first = 0
        for (index, buffer) in buffers.enumerated() {
            guard let state = buffer.baseAddress else { Issue.record("empty state buffer"); return }
            items.append(DeltaRule.Item(rows: first..<(first + lengths[index]), start: starts[index], state: state))
            first += lengths[index]
        }
        var output = [Float](repeating: .nan, count: total * heads * dv)
        output.withUnsafeMutableBufferPointer { out in
            if let out = out.baseAddress { rule.run(joined, items: items, chunkLength: 64, output: out) }
        }
        let states = buffers.map { Array($0) }
        first = 0
        for (index, (part, start)) in parts.enumerated() {
            let alone = Self.run(rule, level: rule.level, part, state: start, start: starts[index])
            let slice = Array(output[(first * heads * dv)..<((first + lengths[index]) * heads * dv)])
            #expect(zip(slice, alone.output).allSatisfy { $0.bitPattern == $1.bitPattern },
                    "sequence \(index): outputs in the batch differ from its own run")
            #expect(zip(states[index], alone.state).allSatisfy { $0.bitPattern == $1.bitPattern },
                    "sequence \(index): state in the batch differs from its own run")
            first += lengths[index]
        }
    }
}
