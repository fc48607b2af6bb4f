import Kernels

/// A batch of f32 activation rows (`rows × columns`, row-major) that remembers its quantized forms, so the
/// projections reading the same input (q, k, v; gate, up) quantize it once per activation format.
final class ActivationRows {
    let values: [Float]
    let rows: Int
    private var quantized: [ActivationFormat: QuantizedActivations] = [:]

    init(_ values: [Float], rows: Int) {
        self.values = values
        self.rows = rows
    }

    func quantized(for weights: WeightMatrix) throws(EngineError) -> QuantizedActivations {
        do {
            let format = try ActivationFormat(pairingWith: weights.type, tensor: weights.name)
            if let done = quantized[format] { return done }
            let made = try QuantizedActivations(values, batch: rows, format: format, tensor: weights.name)
            quantized[format] = made
            return made
        } catch {
            throw .tensor(name: weights.name, reason: error.description)
        }
    }
}

/// y = W·x for every row of a batch through the integer kernels. Each output row equals the single-row kernel
/// call bit for bit, whatever the batch (MatMul's contract), which is what makes the model batch-invariant.
struct Linear: @unchecked Sendable {
    /// `{columns = inputs, rows = outputs}`.
    let weight: WeightMatrix

    var inputs: Int { weight.columns }
    var outputs: Int { weight.rows }

    /// `x.rows × outputs` values, row-major.
    func callAsFunction(_ x: ActivationRows, pool: ThreadPool?) throws(EngineError) -> [Float] {
        let activations = try x.quantized(for: weight)
        do {
            return try MatMul.multiply(weight, activations, pool: pool)
        } catch {
            throw .tensor(name: weight.name, reason: error.description)
        }
    }

    /// Several projections in one pool job (q, k, v; gate and up; every active expert): `result[i]` equals
    /// `projections[i].0(projections[i].1)` bit for bit, at the cost of one thread wake-up instead of one each.
    static func apply(_ projections: [(Linear, ActivationRows)], pool: ThreadPool?) throws(EngineError) -> [[Float]] {
        var products: [(weights: WeightMatrix, activations: QuantizedActivations)] = []
        products.reserveCapacity(projections.count)
        for (linear, x) in projections { products.append((linear.weight, try x.quantized(for: linear.weight))) }
        do {
            return try MatMul.multiply(products, pool: pool)
        } catch {
            throw .tensor(name: projections.first?.0.weight.name ?? "?", reason: error.description)
        }
    }
}
