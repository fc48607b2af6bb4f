internal import CKernels
import Kernels

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

    /// Values per pool task of `multiply(_:by:into:count:pool:)`: enough to outweigh handing the task out (a
    /// multiple of 16, though every value is computed alone, so the split changes no bit).
    static let valuesPerTask = 16_384

    /// `multiply(_:by:into:count:)` split across `pool`'s threads in runs of `valuesPerTask` values (the gated rows of
    /// every expert of an MoE layer at once: 8 tokens × top-8 × 768 values in a qwen3moe decode step, ~3 M in a
    /// 512-token prefill); the same values as one call. Must not be called from inside one of `pool`'s jobs.
    static func multiply(_ a: UnsafePointer<Float>, by b: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>,
                         count: Int, pool: ThreadPool?)
    {
        let tasks = (count + valuesPerTask - 1) / valuesPerTask
        guard let pool, pool.threadCount > 1, tasks > 1 else {
            multiply(a, by: b, into: out, count: count)
            return
        }
        var job = SiLUJob(a: a, b: b, out: out, count: count, valuesPerTask: valuesPerTask, level: bestLevel)
        withUnsafeMutablePointer(to: &job) { job in
            ThreadPool.run(pool, count: tasks, context: UnsafeMutableRawPointer(job)) { context, task in
                context?.assumingMemoryBound(to: SiLUJob.self).pointee.run(task: Int(task))
            }
        }
    }

    /// out[i] = e^(x[i]) as `multiply` computes it (for tests).
    static func exponential(_ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count: Int,
                            level: Int32 = bestLevel)
    {
        let status = sparrow_silu_exp(level, x, out, Int64(count))
        precondition(status == 0, "sparrow_silu_exp: level \(level) or count \(count) refused")
    }
}

/// One `SiLU.multiply(_:by:into:count:pool:)` call, as a plain value a pool job reads through its context pointer.
private struct SiLUJob {
    let a: UnsafePointer<Float>
    let b: UnsafePointer<Float>
    let out: UnsafeMutablePointer<Float>
    let count: Int
    let valuesPerTask: Int
    let level: Int32

    func run(task: Int) {
        let first = task * valuesPerTask
        _ = sparrow_silu_mul(level, a + first, b + first, out + first, Int64(min(valuesPerTask, count - first)))
    }
}
