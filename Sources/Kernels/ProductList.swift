import GGUF
internal import CKernels

/// Independent products y = W·x written to caller-owned outputs, run in one pool job (`MatMul.multiply(_:pool:)`'s
/// arithmetic: each output equals its own `MatMul.multiply` bit for bit). A reusable list: `removeAll()` keeps its
/// storage, so a decode loop that builds the same number of products each step allocates nothing after the first.
public struct ProductList {
    private var descriptors: [sparrow_product] = []
    /// The quantized inputs, held until `run` returns (the descriptors point into their storage).
    private var inputs: [QuantizedActivations] = []
    /// The first product's weight name (for an error from the C job).
    private var firstName: String?
    /// The C job table (`sparrow_matmul_many_with`), grown to the most products run at once.
    private var jobTable: [UInt64] = []

    public init() {}

    /// Products added since the last `removeAll()`.
    public var count: Int { descriptors.count }

    /// Forgets the products, keeping the storage.
    public mutating func removeAll() {
        descriptors.removeAll(keepingCapacity: true)
        inputs.removeAll(keepingCapacity: true)
        firstName = nil
    }

    /// Adds y = `weights` · `activations`: `activations.batch × weights.rows` floats, row-major, to `output` (which
    /// must stay valid until `run` returns).
    public mutating func append(_ weights: WeightMatrix, _ activations: QuantizedActivations,
                                output: UnsafeMutablePointer<Float>) throws(KernelError)
    {
        try append(weights, activations, rows: 0..<activations.batch, output: output)
    }

    /// Adds y = `weights` · rows `rows` of `activations`: `rows.count × weights.rows` floats, row-major, to `output`
    /// (the mixture-of-experts layer gathers every expert's tokens into one batch and multiplies each expert by its
    /// run of rows). An empty range adds nothing.
    public mutating func append(_ weights: WeightMatrix, _ activations: QuantizedActivations, rows: Range<Int>,
                                output: UnsafeMutablePointer<Float>) throws(KernelError)
    {
        try append(weights, activations, rows: rows, output: output, outputRows: nil)
    }

    /// Most activation rows a product with one output array per row takes (`SPARROW_MAX_SEPARATE_OUTPUT_ROWS`).
    public static let maximumSeparateOutputRows = Int(SPARROW_MAX_SEPARATE_OUTPUT_ROWS)

    /// Adds y = `weights` · `activations` with activation row b's `weights.rows` outputs written to `outputRows[b]`
    /// (the logits of each sequence of a decode step straight into its own array): the bits of `append(_:_:output:)`.
    /// `outputRows` (`activations.batch` pointers, at most `maximumSeparateOutputRows`) and the arrays must stay valid
    /// until `run` returns.
    public mutating func append(_ weights: WeightMatrix, _ activations: QuantizedActivations,
                                outputRows: UnsafePointer<UnsafeMutablePointer<Float>?>) throws(KernelError)
    {
        guard activations.batch <= Self.maximumSeparateOutputRows else {
            throw .activationMismatch(tensor: weights.name,
                                      expected: "at most \(Self.maximumSeparateOutputRows) rows with separate outputs",
                                      actual: "\(activations.batch) rows")
        }
        try append(weights, activations, rows: 0..<activations.batch, output: nil, outputRows: outputRows)
    }

    private mutating func append(_ weights: WeightMatrix, _ activations: QuantizedActivations, rows: Range<Int>,
                                 output: UnsafeMutablePointer<Float>?,
                                 outputRows: UnsafePointer<UnsafeMutablePointer<Float>?>?) throws(KernelError)
    {
        let expected = try ActivationFormat(pairingWith: weights.type, tensor: weights.name)
        guard activations.format == expected, activations.columns == weights.columns else {
            throw .activationMismatch(tensor: weights.name, expected: "\(expected.name) rows of \(weights.columns)",
                                      actual: "\(activations.format.name) rows of \(activations.columns)")
        }
        guard rows.lowerBound >= 0, rows.upperBound <= activations.batch else {
            throw .activationMismatch(tensor: weights.name, expected: "a range of rows in 0..<\(activations.batch)",
                                      actual: "rows \(rows.lowerBound)..<\(rows.upperBound)")
        }
        let level = KernelLevel.best(for: weights.type)
        try weights.checkOriginalReadable(level: level, batch: rows.count, use: "a \(level.rawValue) product")
        guard KernelLevel.bestIsAvailable(for: weights.type) else {
            throw .levelUnavailable(tensor: weights.name, type: weights.type.name, level: level.rawValue)
        }
        guard !rows.isEmpty else { return }
        let first = activations.storage.bytes + rows.lowerBound * activations.rowBytes
        descriptors.append(sparrow_product(type: weights.type.rawValue, level: level.cValue, w: weights.base,
                                           w_row_bytes: weights.rowBytes, n_rows: Int64(weights.rows),
                                           n_cols: Int64(weights.columns), x: UnsafeRawPointer(first),
                                           x_row_bytes: activations.rowBytes, n_batch: Int64(rows.count),
                                           y: output, w_repacked: weights.repacked, y_rows: outputRows))
        // One reference per distinct buffer keeps the inputs alive until `run` (an expert's rows share the batch's).
        if inputs.last?.storage !== activations.storage { inputs.append(activations) }
        if firstName == nil { firstName = weights.name }
    }

    /// Computes every product added (their row chunks share one work counter, as in `MatMul.multiply(_:pool:)`).
    public mutating func run(pool: ThreadPool?) throws(KernelError) {
        guard !descriptors.isEmpty else { return }
        let words = (sparrow_matmul_many_scratch_bytes(Int64(descriptors.count)) + 7) / 8
        if jobTable.count < words { jobTable = [UInt64](repeating: 0, count: max(words, 2 * jobTable.count)) }
        let status = withExtendedLifetime(inputs) {
            descriptors.withUnsafeBufferPointer { d in
                jobTable.withUnsafeMutableBytes { table in
                    sparrow_matmul_many_with(pool?.handle, d.baseAddress, Int64(d.count), table.baseAddress)
                }
            }
        }
        guard status == 0 else {
            throw .levelUnavailable(tensor: firstName ?? "?", type: "?", level: "?")
        }
    }
}
