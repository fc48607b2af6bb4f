/// RMSNorm as ggml computes it (`ggml_compute_forward_rms_norm_f32`): the sum of squares accumulated in double in
/// index order, `scale = 1 / sqrt(mean + eps)` in f32, then the elementwise weight.
struct RMSNorm: Sendable {
    /// `{n}`: the learned scale.
    let weight: [Float]
    let epsilon: Float

    var count: Int { weight.count }

    /// Normalises each `weight.count`-long group of `values` in place (rows of a batch, or heads of a row).
    func apply(_ values: inout [Float]) {
        let n = weight.count
        guard n > 0 else { return }
        values.withUnsafeMutableBufferPointer { buffer in
            weight.withUnsafeBufferPointer { w in
                guard let base = buffer.baseAddress, let w = w.baseAddress else { return }
                var start = 0
                while start + n <= buffer.count {
                    let x = base + start
                    var sum: Double = 0
                    for i in 0..<n { sum += Double(x[i] * x[i]) }
                    let mean = Float(sum / Double(n))
                    let scale = 1 / (mean + epsilon).squareRoot()
                    for i in 0..<n { x[i] = (x[i] * scale) * w[i] }
                    start += n
                }
            }
        }
    }

    /// A normalised copy of `values`, written straight from the input (the same arithmetic as `apply`).
    func callAsFunction(_ values: [Float]) -> [Float] {
        let n = weight.count
        guard n > 0, values.count % n == 0 else {
            var copy = values
            apply(&copy)
            return copy
        }
        return [Float](unsafeUninitializedCapacity: values.count) { out, initialized in
            values.withUnsafeBufferPointer { input in
                weight.withUnsafeBufferPointer { w in
                    guard let x = input.baseAddress, let y = out.baseAddress, let w = w.baseAddress else { return }
                    var start = 0
                    while start < input.count {
                        var sum: Double = 0
                        for i in 0..<n { sum += Double(x[start + i] * x[start + i]) }
                        let mean = Float(sum / Double(n))
                        let scale = 1 / (mean + epsilon).squareRoot()
                        for i in 0..<n { y[start + i] = (x[start + i] * scale) * w[i] }
                        start += n
                    }
                }
            }
            initialized = values.count
        }
    }
}
