import Testing
@testable import Engine

/// The MoE router's top-k pick: the vector search (`MixtureOfExperts.firstLargest`, used when every probability is a
/// finite number) must pick what the scalar loop picks — the largest value that is not −∞ (taken experts are set to
/// −∞), the lowest index among equals, −1 when nothing is left. Tolerance: none (indices).
@Suite("router top-k")
struct RouterTopKTests {
    @Test("the vector search picks the scalar loop's index, ties and taken entries included")
    func vectorMatchesScalar() {
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        func next() -> UInt64 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return state
        }
        var checked = 0
        for n in Array(0...40) + [127, 128, 129, 512] {
            for trial in 0..<40 {
                // Few distinct values so that ties are common; some entries already taken (−∞), some zero.
                var p = (0..<n).map { _ -> Float in
                    switch next() % 8 {
                    case 0: -.infinity
                    case 1: 0
                    default: Float(next() % 5) * 0.125
                    }
                }
                if trial % 10 == 0 { p = p.map { _ in -.infinity } }
                // Take entries one by one as the router does, comparing every pick.
                for _ in 0..<min(n, 10) {
                    let (vector, scalar) = p.withUnsafeBufferPointer { b -> (Int, Int) in
                        guard let base = b.baseAddress else { return (-1, -1) }
                        return (MixtureOfExperts.firstLargest(base, count: n),
                                MixtureOfExperts.firstLargestScalar(base, count: n))
                    }
                    #expect(vector == scalar, "\(n) values, trial \(trial): \(vector) against \(scalar)")
                    checked += 1
                    guard scalar >= 0 else { break }
                    p[scalar] = -.infinity
                }
            }
        }
        #expect(checked > 5_000)
    }
}
