import Kernels

extension WeightMatrix {
    /// Writes the embedding row (this matrix's row t for token t) of every token of `items`, in item order, into
    /// consecutive rows of `width` floats at `x`. Token ids must have been checked against `rows`.
    func embed(_ items: [ForwardItem], width: Int, into x: UnsafeMutablePointer<Float>) throws(EngineError) {
        var row = 0
        for item in items {
            for token in item.tokens {
                do {
                    try Dequantizer.dequantize(self, row: Int(token), into: x + row * width)
                } catch {
                    throw .tensor(name: name, reason: error.description)
                }
                row += 1
            }
        }
    }
}
