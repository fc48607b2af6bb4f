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
