import Kernels
import Testing
@testable import Engine

/// The delta rule's (item, head) jobs run on the persistent thread pool (issue 12: the pool never spawns per call);
/// whichever thread runs a head, its arithmetic is the same, so the pool must give the serial run's bits.
@Suite("qwen3next delta rule on the thread pool")
struct DeltaRulePoolTests {
    @Test("a batch on a 2- and a 3-thread pool gives the serial run's bits", arguments: [2, 3])
    func poolMatchesSerial(threads: Int) throws {
        let heads = 4, dk = 128, dv = 128
        let rule = DeltaRule(heads: heads, keyDimension: dk, valueDimension: dv)
        // Eight decode tokens (enough work for the pool: 8 × 4 × 128 × 128 ≥ 2¹⁷) and one 9-token prefill chunk.
        let lengths = [1, 1, 1, 1, 1, 1, 1, 1, 9], starts = [3, 40, 0, 7, 63, 64, 100, 5, 60]
        let total = lengths.reduce(0, +)
        let (inputs, _) = DeltaRuleLevelTests.inputs(tokens: total, heads: heads, dk: dk, dv: dv, seed: 21)
        let stateFloats = heads * dk * dv
        let initial = (0..<lengths.count).map { index in
            DeltaRuleLevelTests.inputs(tokens: 1, heads: heads, dk: dk, dv: dv, seed: UInt64(30 + index)).1
        }
        func run(pool: ThreadPool?) -> (output: [Float], states: [[Float]]) {
            let states = UnsafeMutableBufferPointer<Float>.allocate(capacity: lengths.count * stateFloats)
            defer { states.deallocate() }
            for (index, state) in initial.enumerated() {
                _ = UnsafeMutableBufferPointer(rebasing: states[(index * stateFloats)...]).initialize(from: state)
            }
            var items: [DeltaRule.Item] = []
            var first = 0
            for index in lengths.indices {
                guard let base = states.baseAddress else { return ([], []) }
                items.append(DeltaRule.Item(rows: first..<(first + lengths[index]), start: starts[index],
                                            state: base + index * stateFloats))
                first += lengths[index]
            }
            var output = [Float](repeating: .nan, count: total * heads * dv)
            output.withUnsafeMutableBufferPointer { out in
                if let out = out.baseAddress { rule.run(inputs, items: items, chunkLength: 64, output: out, pool: pool) }
            }
            let result = lengths.indices.map { Array(states[($0 * stateFloats)..<(($0 + 1) * stateFloats)]) }
            return (output, result)
        }
        let serial = run(pool: nil)
        #expect(serial.output.allSatisfy(\.isFinite) && serial.output.contains { $0 != 0 })
        let pooled = run(pool: try ThreadPool(threads: threads))
        #expect(zip(pooled.output, serial.output).allSatisfy { $0.bitPattern == $1.bitPattern },
                "\(threads) threads: outputs differ from the serial run")
        for index in lengths.indices {
            #expect(zip(pooled.states[index], serial.states[index]).allSatisfy { $0.bitPattern == $1.bitPattern },
                    "\(threads) threads: state \(index) differs from the serial run")
        }
    }
}
