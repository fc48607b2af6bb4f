internal import CKernels

/// silu(a)·b over whole rows, the gate of every SwiGLU block (dense MLPs, MoE experts, qwen3next's gated norm):
/// `sparrow_silu_mul` (CKernels, silu.c). Its e^x is glibc's expf as a CPU with FMA and AVX2 runs it (the same
/// algorithm, constants and fused operations), at every level and on every machine, so each value equals `silu(a) * b`
/// written with libm's `expf` there, bit for bit; the AVX-512 level computes 16 at once.
enum SiLU {
    /// The fastest level this CPU runs (`SPARROW_SILU_*`).
    static let bestLevel = Int32(sparrow_silu_best_level())
    /// The levels this CPU runs, portable first (every level gives the same bits; tests compare them).
    static var availableLevels: [Int32] { Array(0...bestLevel) }

    /// out[i] = silu(a[i]) · b[i] = a[i] / (1 + e^−a[i]) · b[i] for i in 0..<count, each operation rounded to Float
    /// as written (`out` may be `a` or `b`).
    static func multiply(_ a: UnsafePointer<Float>, by b: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>,
                         count: Int, level: Int32 = bestLevel)
    {
        let status = sparrow_silu_mul(level, a, b, out, Int64(count))
        precondition(status == 0, "sparrow_silu_mul: level \(level) or count \(count) refused")
    }

    /// out[i] = e^(x[i]) as `multiply` computes it (for tests).
    static func exponential(_ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count: Int,
                            level: Int32 = bestLevel)
    {
        let status = sparrow_silu_exp(level, x, out, Int64(count))
        precondition(status == 0, "sparrow_silu_exp: level \(level) or count \(count) refused")
    }
}
