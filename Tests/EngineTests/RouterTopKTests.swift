import Testing
@testable import Engine

/// The MoE router's top-k pick: the one-pass selection (`MixtureOfExperts.appendTopK`, used when every probability
/// is a finite number) must pick what k rounds of the scalar loop pick — each round the largest value left, the
/// lowest index among equals, then taken (set to −∞) — in the same order, with the same values. Tolerance: none
/// (indices and values' bits).
@Suite("router top-k")
struct RouterTopKTests {
    /// k rounds of `firstLargestScalar`, as the router runs them when a probability is not finite.
    static func rounds(_ values: [Float], k: Int) -> [(expert: Int, weight: Float)] {
        var p = values
        var picked: [(expert: Int, weight: Float)] = []
        p.withUnsafeMutableBufferPointer {
            MixtureOfExperts.appendTopKByRounds($0.baseAddress!, count: $0.count, k: k, to: &picked)
        }
        return picked
    }

    @Test("the one-pass top k equals k rounds of the scalar pick, ties included")
    func onePassMatchesRounds() {
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        func next() -> UInt64 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return state
        }
        var checked = 0
        for n in Array(1...40) + [127, 128, 129, 512] {
            for trial in 0..<40 {
                // Few distinct values so that ties are common (all equal in some trials), zeros, negatives, and
                // in other trials spread-out values in increasing, decreasing or random order.
                let values: [Float] = (0..<n).map { i -> Float in
                    switch trial % 5 {
                    case 0: 0.25
                    case 1: Float(i)
                    case 2: Float(n - i)
                    case 3: Float(Int(next() % 1000) - 500) / 64
                    default: next() % 8 == 0 ? 0 : Float(next() % 5) * 0.125 - 0.125
                    }
                }
                for k in [1, 2, 8, 10, n] where k <= n {
                    var chosen: [(expert: Int, weight: Float)] = [(999, 9)]  // appended after what is there
                    values.withUnsafeBufferPointer {
                        MixtureOfExperts.appendTopK($0.baseAddress!, count: n, k: k, to: &chosen)
                    }
                    let expected = Self.rounds(values, k: k)
                    #expect(chosen.count == k + 1 && chosen[0].expert == 999)
                    #expect(chosen.dropFirst().map(\.expert) == expected.map(\.expert),
                            "\(n) values, trial \(trial), k \(k)")
                    #expect(chosen.dropFirst().map(\.weight.bitPattern) == expected.map(\.weight.bitPattern))
                    checked += 1
                }
            }
        }
        #expect(checked > 5_000)
    }

    @Test("k of 0 appends nothing")
    func none() {
        var chosen: [(expert: Int, weight: Float)] = []
        let values: [Float] = [1, 2, 3]
        values.withUnsafeBufferPointer { MixtureOfExperts.appendTopK($0.baseAddress!, count: 3, k: 0, to: &chosen) }
        #expect(chosen.isEmpty)
    }
}
