import Kernels

/// A batch of f32 activation rows (`rows × columns`, row-major) that remembers its quantized forms, so the
/// projections reading the same input (q, k, v; gate, up) quantize it once per activation format. Reusable: `reset`
/// makes it hold new rows in the same storage (and re-quantizes into the same buffers), so a forward call's scratch
/// allocates nothing once it has seen its shapes.
final class ActivationRows {
    private let buffer = FloatBuffer()
    private(set) var rows = 0
    private(set) var columns = 0
    /// The quantized form per format, and the `generation` it was made in (stale when older).
    private var quantized: [ActivationFormat: (generation: Int, activations: QuantizedActivations)] = [:]
    private var generation = 0

    /// Empty; `reset` gives it rows.
    init() {}

    /// The first value of row 0 (`rows × columns` floats).
    var pointer: UnsafeMutablePointer<Float> { buffer.pointer }

    /// A copy of the values (for traces; allocates).
    var values: [Float] { buffer.array }

    /// Makes room for `rows × columns` values, forgets the quantized forms and returns where to write the values.
    @discardableResult
    func reset(rows: Int, columns: Int) -> UnsafeMutablePointer<Float> {
        self.rows = rows
        self.columns = columns
        generation += 1
        return buffer.resize(rows * columns)
    }

    /// The rows in the activation format `weights` pairs with, quantized at most once per `reset` (with `pool`, on
    /// its threads).
    func quantized(for weights: WeightMatrix, pool: ThreadPool? = nil) throws(EngineError) -> QuantizedActivations {
        do {
            let format = try ActivationFormat(pairingWith: weights.type, tensor: weights.name)
            if let done = quantized[format], done.generation == generation { return done.activations }
            // Re-quantize in place: the entry is taken out first so its storage is not shared while it is reused
            // (the first time, a one-block placeholder whose storage requantize replaces).
            var entry: QuantizedActivations
            if let kept = quantized.removeValue(forKey: format)?.activations {
                entry = kept
            } else {
                entry = try QuantizedActivations([Float](repeating: 0, count: format.blockSize), batch: 1,
                                                 format: format, tensor: weights.name)
            }
            try entry.requantize(buffer.pointer, batch: rows, columns: columns, format: format, tensor: weights.name,
                                 pool: pool)
            quantized[format] = (generation, entry)
            return entry
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

    /// Adds y = W·x (`x.rows × outputs` floats, row-major, to `output`) to `products`; `Linear.run` computes it.
    /// `pool` quantizes x's rows when they are not yet in the weight's activation format.
    func append(_ x: ActivationRows, into output: UnsafeMutablePointer<Float>, to products: inout ProductList,
                pool: ThreadPool?) throws(EngineError)
    {
        let activations = try x.quantized(for: weight, pool: pool)
        do {
            try products.append(weight, activations, output: output)
        } catch {
            throw .tensor(name: weight.name, reason: error.description)
        }
    }

    /// Adds y = W·x with row b's outputs written to `outputRows[b]` (see `ProductList.append(_:_:outputRows:)`).
    func append(_ x: ActivationRows, outputRows: UnsafePointer<UnsafeMutablePointer<Float>?>,
                to products: inout ProductList, pool: ThreadPool?) throws(EngineError)
    {
        let activations = try x.quantized(for: weight, pool: pool)
        do {
            try products.append(weight, activations, outputRows: outputRows)
        } catch {
            throw .tensor(name: weight.name, reason: error.description)
        }
    }

    /// Adds y = W·x for activations already quantized to the weight's format.
    func append(quantized x: QuantizedActivations, into output: UnsafeMutablePointer<Float>,
                to products: inout ProductList) throws(EngineError)
    {
        do {
            try products.append(weight, x, output: output)
        } catch {
            throw .tensor(name: weight.name, reason: error.description)
        }
    }

    /// Adds y = W·x for rows `rows` of activations already quantized to the weight's format (`rows.count ×
    /// outputs` floats to `output`).
    func append(quantized x: QuantizedActivations, rows: Range<Int>, into output: UnsafeMutablePointer<Float>,
                to products: inout ProductList) throws(EngineError)
    {
        do {
            try products.append(weight, x, rows: rows, output: output)
        } catch {
            throw .tensor(name: weight.name, reason: error.description)
        }
    }

    /// Computes every product of `products` in one pool job, then empties the list (keeping its storage, and
    /// releasing the quantized inputs so their buffers can be reused).
    static func run(_ products: inout ProductList, pool: ThreadPool?) throws(EngineError) {
        defer { products.removeAll() }
        do {
            try products.run(pool: pool)
        } catch {
            throw .tensor(name: "projection", reason: error.description)
        }
    }
}
