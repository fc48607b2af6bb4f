import Kernels

/// RMSNorm as ggml computes it (`ggml_compute_forward_rms_norm_f32`): the sum of squares accumulated in double in
/// index order, `scale = 1 / sqrt(mean + eps)` in f32, then the elementwise weight.
struct RMSNorm: Sendable {
    /// `{n}`: the learned scale.
    let weight: [Float]
    let epsilon: Float

    var count: Int { weight.count }

    /// Writes each normalised `weight.count`-long group of `input` (rows of a batch, or heads of a row; `count`
    /// floats) to `output`, which may be `input` itself.
    ///
    /// A group's sum of squares is one chain of double adds in index order (ggml's order, so the same bits), which
    /// is latency-bound: four groups at a time run four chains side by side (each still in its own order, so a
    /// group's result does not depend on its neighbours or on how many there are).
    func normalize(_ input: UnsafePointer<Float>, count: Int, into output: UnsafeMutablePointer<Float>) {
        let n = weight.count
        guard n > 0 else { return }
        let groups = count / n
        weight.withUnsafeBufferPointer { w in
            guard let w = w.baseAddress else { return }
            var g = 0
            while g + 4 <= groups {
                let x0 = input + g * n, x1 = x0 + n, x2 = x1 + n, x3 = x2 + n
                var s0: Double = 0, s1: Double = 0, s2: Double = 0, s3: Double = 0
                for i in 0..<n {
                    s0 += Double(x0[i] * x0[i])
                    s1 += Double(x1[i] * x1[i])
                    s2 += Double(x2[i] * x2[i])
                    s3 += Double(x3[i] * x3[i])
                }
                let scales = (inverseRMS(sum: s0, count: n), inverseRMS(sum: s1, count: n),
                              inverseRMS(sum: s2, count: n), inverseRMS(sum: s3, count: n))
                let y = output + g * n
                Self.writeScaled(x0, by: scales.0, weight: w, into: y, count: n)
                Self.writeScaled(x1, by: scales.1, weight: w, into: y + n, count: n)
                Self.writeScaled(x2, by: scales.2, weight: w, into: y + 2 * n, count: n)
                Self.writeScaled(x3, by: scales.3, weight: w, into: y + 3 * n, count: n)
                g += 4
            }
            while g < groups {
                let x = input + g * n
                var sum: Double = 0
                for i in 0..<n { sum += Double(x[i] * x[i]) }
                let s = inverseRMS(sum: sum, count: n)
                Self.writeScaled(x, by: s, weight: w, into: output + g * n, count: n)
                g += 1
            }
        }
    }

    /// Floats from which `normalize(_:count:into:pool:)` splits the work (8 rows of 2,048; one decoded token's 32
    /// query heads of 128 take ~2 µs alone, less than a pool job costs).
    static let pooledFloats = 16_384

    /// `normalize(_:count:into:)` with the groups split over `pool`'s threads in runs of at least four (each group
    /// is computed as the serial call computes it, so the values are the same on any thread and for any split). A
    /// batch of 8 decoded tokens has 256 query heads to normalise per layer: serial, the norms were 0.7 % of a
    /// qwen3moe step while the pool's other thread waited (measured 2026-12-01).
    func normalize(_ input: UnsafePointer<Float>, count: Int, into output: UnsafeMutablePointer<Float>,
                   pool: ThreadPool?)
    {
        let n = weight.count
        let groups = n > 0 ? count / n : 0
        let threads = pool?.threadCount ?? 1
        guard threads > 1, groups >= 8, count >= Self.pooledFloats else {
            return normalize(input, count: count, into: output)
        }
        // Runs of a multiple of 4 groups, about four per thread, so a thread that starts late still finds work.
        let perPart = (groups + 4 * threads - 1) / (4 * threads)
        let run = max(4, (perPart + 3) / 4 * 4)
        var job = NormalizeJob(norm: self, input: input, output: output, groups: groups, run: run)
        let parts = (groups + run - 1) / run
        withUnsafeMutablePointer(to: &job) { job in
            ThreadPool.run(pool, count: parts, context: UnsafeMutableRawPointer(job)) { context, part in
                context?.assumingMemoryBound(to: NormalizeJob.self).pointee.normalize(part: Int(part))
            }
        }
    }

    /// y[i] = (x[i] · s) · w[i] (`y` may be `x`).
    @inline(__always)
    private static func writeScaled(_ x: UnsafePointer<Float>, by s: Float, weight w: UnsafePointer<Float>,
                              into y: UnsafeMutablePointer<Float>, count n: Int)
    {
        var i = 0
        while i < n {
            y[i] = (x[i] * s) * w[i]
            i &+= 1
        }
    }

    /// `1 / sqrt(mean + eps)` in f32 from a group's sum of squares.
    @inline(__always)
    private func inverseRMS(sum: Double, count: Int) -> Float {
        let mean = Float(sum / Double(count))
        return 1 / (mean + epsilon).squareRoot()
    }
}

/// One pooled `RMSNorm.normalize` call: part p normalises groups `p · run ..< min((p + 1) · run, groups)`.
private struct NormalizeJob {
    let norm: RMSNorm
    let input: UnsafePointer<Float>
    let output: UnsafeMutablePointer<Float>
    let groups: Int, run: Int

    func normalize(part: Int) {
        let n = norm.count, first = part * run, count = min(run, groups - first)
        norm.normalize(input + first * n, count: count * n, into: output + first * n)
    }
}
