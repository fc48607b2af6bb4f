import Testing
@testable import Engine

/// `RoPE.apply` against the loop it replaced (one loop for both styles, the pair's indices chosen per value), bit for
/// bit: each value is two unfused multiplies and an add or subtract, in the same order, whichever loop runs them.
@Suite("RoPE")
struct RoPETests {
    /// The loop before 2026-12-01, kept here as the reference.
    static func reference(_ rope: RoPE, _ row: inout [Float], heads: Int, headDimension: Int, cos c: [Float],
                          sin s: [Float])
    {
        let half = rope.dimensions / 2
        for head in 0..<heads {
            let base = head * headDimension
            for i in 0..<half {
                let (a, b) = rope.style == .normal ? (2 * i, 2 * i + 1) : (i, i + half)
                let x0 = row[base + a], x1 = row[base + b]
                row[base + a] = x0 * c[i] - x1 * s[i]
                row[base + b] = x0 * s[i] + x1 * c[i]
            }
        }
    }

    /// Both styles, full and partial rotary (qwen3next rotates 64 of 256), positions far apart, rows with every sign
    /// and magnitude: equal bits.
    @Test("apply equals the single-loop reference bit for bit", arguments: [
        (RoPE.Style.normal, 64, 64), (.neox, 128, 128), (.neox, 64, 256), (.normal, 32, 48),
    ])
    func matchesReference(style: RoPE.Style, dimensions: Int, headDimension: Int) {
        let rope = RoPE(style: style, dimensions: dimensions, base: 10_000)
        let heads = 5
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Float {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(Int64(bitPattern: seed >> 11) % 2_000_001 - 1_000_000) / 1000 * Float(1 + (seed >> 60))
        }
        for position in [0, 1, 17, 4095, 262_143] {
            var c = [Float](repeating: 0, count: dimensions / 2), s = c
            rope.angles(position: position, cos: &c, sin: &s)
            let input = (0..<(heads * headDimension)).map { _ in next() }
            var expected = input, actual = input
            Self.reference(rope, &expected, heads: heads, headDimension: headDimension, cos: c, sin: s)
            rope.apply(&actual, heads: heads, headDimension: headDimension, cos: c, sin: s)
            let differing = input.indices.filter { expected[$0].bitPattern != actual[$0].bitPattern }.count
            #expect(differing == 0, "position \(position)")
        }
    }
}
