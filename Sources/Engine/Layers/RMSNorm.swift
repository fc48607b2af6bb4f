/// RMSNorm as ggml computes it (`ggml_compute_forward_rms_norm_f32`): the sum of squares accumulated in double in
/// index order, `scale = 1 / sqrt(mean + eps)` in f32, then the elementwise weight.
struct RMSNorm: Sendable {
    /// `{n}`: the learned scale.
    let weight: [Float]
    let epsilon: Float

    var count: Int { weight.count }

    /// Writes each normalised `weight.count`-long group of `input` (rows of a batch, or heads of a row; `count`
    /// floats) to `output`, which may be `input` itself.
    func normalize(_ input: UnsafePointer<Float>, count: Int, into output: UnsafeMutablePointer<Float>) {
        let n = weight.count
        guard n > 0 else { return }
        weight.withUnsafeBufferPointer { w in
            guard let w = w.baseAddress else { return }
            var start = 0
            while start + n <= count {
                var sum: Double = 0
                for i in 0..<n { sum += Double(input[start + i] * input[start + i]) }
                let mean = Float(sum / Double(n))
                let scale = 1 / (mean + epsilon).squareRoot()
                for i in 0..<n { output[start + i] = (input[start + i] * scale) * w[i] }
                start += n
            }
        }
    }
}
