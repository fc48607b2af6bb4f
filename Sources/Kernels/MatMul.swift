import GGUF
internal import CKernels

/// Mat-vec and mat-mat from the integer kernel family: every output equals one row-kernel call (weight row ·
/// quantized activation row) bit for bit — batches of K-quants use kernels that unpack a weight block once for several
/// activation rows but keep each row's arithmetic — so a row's result does not depend on the batch it is in or on
/// the thread count (DESIGN.md §6).
public enum MatMul {
    /// y[b][r] = row r of `weights` · activation row b, returned row-major as `batch × weights.rows`.
    /// `level` defaults to the fastest kernel for the weight type on this CPU; `pool` nil runs on this thread.
    public static func multiply(_ weights: WeightMatrix, _ activations: QuantizedActivations,
                                level: KernelLevel? = nil, pool: ThreadPool? = nil) throws(KernelError) -> [Float]
    {
        let expected = try ActivationFormat(pairingWith: weights.type, tensor: weights.name)
        guard activations.format == expected, activations.columns == weights.columns else {
            throw .activationMismatch(tensor: weights.name, expected: "\(expected.name) rows of \(weights.columns)",
                                      actual: "\(activations.format.name) rows of \(activations.columns)")
        }
        let level = level ?? KernelLevel.best(for: weights.type)
        try weights.checkOriginalReadable(level: level, batch: activations.batch, use: "a \(level.rawValue) product")
        guard level.isAvailable(for: weights.type) else {
            throw .levelUnavailable(tensor: weights.name, type: weights.type.name, level: level.rawValue)
        }
        let count = activations.batch * weights.rows
        guard count > 0 else { return [] }
        var status: Int32 = 0
        let output = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            status = activations.withRows { x in
                sparrow_matmul(pool?.handle, level.cValue, weights.type.rawValue, weights.base, weights.rowBytes,
                               Int64(weights.rows), Int64(weights.columns), x, activations.rowBytes,
                               Int64(activations.batch), buffer.baseAddress, weights.repacked)
            }
            initialized = count
        }
        guard status == 0 else {
            throw .levelUnavailable(tensor: weights.name, type: weights.type.name, level: level.rawValue)
        }
        return output
    }

    /// Several independent products in one pool job (their row chunks share one work counter, so small matrices
    /// keep every thread busy for one wake-up). `outputs[i]` is what `multiply(products[i].weights,
    /// products[i].activations)` returns, bit for bit.
    public static func multiply(_ products: [(weights: WeightMatrix, activations: QuantizedActivations)],
                                pool: ThreadPool? = nil) throws(KernelError) -> [[Float]]
    {
        var offsets: [Int] = [0]
        offsets.reserveCapacity(products.count + 1)
        var levels: [KernelLevel] = []
        levels.reserveCapacity(products.count)
        for (weights, activations) in products {
            let expected = try ActivationFormat(pairingWith: weights.type, tensor: weights.name)
            guard activations.format == expected, activations.columns == weights.columns else {
                throw .activationMismatch(tensor: weights.name,
                                          expected: "\(expected.name) rows of \(weights.columns)",
                                          actual: "\(activations.format.name) rows of \(activations.columns)")
            }
            let level = KernelLevel.best(for: weights.type)
            try weights.checkOriginalReadable(level: level, batch: activations.batch, use: "a \(level.rawValue) product")
            guard level.isAvailable(for: weights.type) else {
                throw .levelUnavailable(tensor: weights.name, type: weights.type.name, level: level.rawValue)
            }
            levels.append(level)
            offsets.append((offsets.last ?? 0) + activations.batch * weights.rows)
        }
        let total = offsets.last ?? 0
        guard total > 0 else { return products.map { _ in [] } }
        var status: Int32 = 0
        let flat = [Float](unsafeUninitializedCapacity: total) { buffer, initialized in
            guard let out = buffer.baseAddress else { return }
            let descriptors = products.indices.map { i in
                let (w, x) = products[i]
                return sparrow_product(type: w.type.rawValue, level: levels[i].cValue, w: w.base,
                                       w_row_bytes: w.rowBytes, n_rows: Int64(w.rows), n_cols: Int64(w.columns),
                                       x: UnsafeRawPointer(x.storage.bytes), x_row_bytes: x.rowBytes,
                                       n_batch: Int64(x.batch), y: out + offsets[i],
                                       w_repacked: w.repacked, y_rows: nil)
            }
            status = withExtendedLifetime(products) {
                sparrow_matmul_many(pool?.handle, descriptors, Int64(descriptors.count))
            }
            initialized = total
        }
        guard status == 0 else {
            let name = products.first?.weights.name ?? "?"
            throw .levelUnavailable(tensor: name, type: products.first?.weights.type.name ?? "?",
                                    level: levels.first?.rawValue ?? "?")
        }
        return products.indices.map { Array(flat[offsets[$0]..<offsets[$0 + 1]]) }
    }

    /// y = W·x for one f32 activation row (quantized once here).
    public static func matVec(_ weights: WeightMatrix, _ x: [Float], level: KernelLevel? = nil,
                              pool: ThreadPool? = nil) throws(KernelError) -> [Float]
    {
        try multiply(weights, QuantizedActivations(x, for: weights), level: level, pool: pool)
    }

    /// The kernels `dotTile` can run: the level's multi-row kernel; the one that reads the rows interleaved into a
    /// tile (what `multiply` uses for 4 to 8 rows where the type has one); the few-rows kernel (2 or 3 rows).
    enum TileKernel { case multiRow, interleaved, fewRows }

    /// Row `row` of `weights` against activation rows `batchRows` (1 to 8 of them; 1 to 4 for `.fewRows`) in one call,
    /// as a mat-mul tile computes them. Each result equals `dot` on that row bit for bit.
    static func dotTile(_ weights: WeightMatrix, row: Int, _ activations: QuantizedActivations, batchRows: Range<Int>,
                        level: KernelLevel, kernel: TileKernel = .multiRow) throws(KernelError) -> [Float]
    {
        try checkTile(weights, rows: [row], activations, batchRows: batchRows, most: kernel == .fewRows ? 4 : 8)
        var out = [Float](repeating: 0, count: batchRows.count)
        let status = activations.withRows { x in
            out.withUnsafeMutableBufferPointer { buffer in
                let run = switch kernel {
                case .multiRow: sparrow_vec_dotn
                case .interleaved: sparrow_vec_dot_tile
                case .fewRows: sparrow_vec_dot_few
                }
                return run(weights.type.rawValue, level.cValue, Int64(weights.columns), weights.rowPointer(row),
                              x.map { $0 + batchRows.lowerBound * activations.rowBytes }, activations.rowBytes,
                              Int32(batchRows.count), buffer.baseAddress)
            }
        }
        guard status == 0 else {
            throw .levelUnavailable(tensor: weights.name, type: weights.type.name, level: level.rawValue)
        }
        return out
    }

    /// Rows `rows.0` and `rows.1` of `weights` against activation rows `batchRows` (1 to 8) through the two-row
    /// interleaved-tile kernel, as a mat-mul runs pairs of weight rows: each result equals `dot` bit for bit.
    static func dotTilePair(_ weights: WeightMatrix, rows: (Int, Int), _ activations: QuantizedActivations,
                            batchRows: Range<Int>, level: KernelLevel) throws(KernelError) -> ([Float], [Float])
    {
        try checkTile(weights, rows: [rows.0, rows.1], activations, batchRows: batchRows, most: 8)
        var first = [Float](repeating: 0, count: batchRows.count), second = first
        let status = activations.withRows { x in
            first.withUnsafeMutableBufferPointer { out0 in
                second.withUnsafeMutableBufferPointer { out1 in
                    sparrow_vec_dot_tile_pair(weights.type.rawValue, level.cValue, Int64(weights.columns),
                                              weights.rowPointer(rows.0), weights.rowPointer(rows.1),
                                              x.map { $0 + batchRows.lowerBound * activations.rowBytes },
                                              activations.rowBytes, Int32(batchRows.count), out0.baseAddress,
                                              out1.baseAddress)
                }
            }
        }
        guard status == 0 else {
            throw .levelUnavailable(tensor: weights.name, type: weights.type.name, level: level.rawValue)
        }
        return (first, second)
    }

    /// Weight rows 16·`group` ..< 16·`group` + 16 of `weights`, read from its repacked copy, against activation rows
    /// `batchRows` (1 to 8; 1 to 16 with `matrixUnit`) through the repacked kernel of `level`, or its AMX kernel
    /// with `matrixUnit`: `batchRows.count × 16` results, activation row major. Each equals `dot` on that weight row
    /// bit for bit.
    static func dotRepacked(_ weights: WeightMatrix, group: Int, _ activations: QuantizedActivations,
                            batchRows: Range<Int>, level: KernelLevel, matrixUnit: Bool = false) throws(KernelError)
        -> [Float]
    {
        let groupBytes = WeightRepacker.repackedBytes(weights) / max(weights.rows / 16, 1)
        guard let repacked = weights.repacked, groupBytes > 0 else {
            throw .badShape(tensor: weights.name, type: weights.type.name, rows: weights.rows, columns: weights.columns,
                            reason: "expected a matrix with a repacked copy")
        }
        try checkTile(weights, rows: [16 * group, 16 * group + 15], activations, batchRows: batchRows,
                      most: matrixUnit ? 16 : 8)
        var out = [Float](repeating: 0, count: 16 * batchRows.count)
        let kernel = matrixUnit ? sparrow_vec_dot_repacked_amx : sparrow_vec_dot_repacked
        let status = activations.withRows { x in
            out.withUnsafeMutableBufferPointer { buffer in
                kernel(weights.type.rawValue, level.cValue, Int64(weights.columns), repacked + group * groupBytes,
                       x.map { $0 + batchRows.lowerBound * activations.rowBytes }, activations.rowBytes,
                       Int32(batchRows.count), buffer.baseAddress)
            }
        }
        guard status == 0 else {
            throw .levelUnavailable(tensor: weights.name, type: weights.type.name, level: level.rawValue)
        }
        return out
    }

    /// Throws unless `activations` are in the format `weights` pairs with, of its width, every weight row is in
    /// range, and `batchRows` are 1 to `most` rows of the activations.
    private static func checkTile(_ weights: WeightMatrix, rows: [Int], _ activations: QuantizedActivations,
                                  batchRows: Range<Int>, most: Int) throws(KernelError)
    {
        let expected = try ActivationFormat(pairingWith: weights.type, tensor: weights.name)
        guard activations.format == expected, activations.columns == weights.columns,
              rows.allSatisfy({ (0..<weights.rows).contains($0) }), batchRows.lowerBound >= 0,
              batchRows.upperBound <= activations.batch, (1...most).contains(batchRows.count)
        else {
            throw .activationMismatch(tensor: weights.name,
                                      expected: "\(expected.name) rows of \(weights.columns), weight rows in "
                                          + "0..<\(weights.rows), 1 to \(most) activation rows in range",
                                      actual: "\(activations.format.name) rows of \(activations.columns), weight rows "
                                          + "\(rows), activation rows \(batchRows) of \(activations.batch)")
        }
    }

    /// One row kernel call: row `row` of `weights` · activation row `batchRow` (what every output of `multiply` is).
    public static func dot(_ weights: WeightMatrix, row: Int, _ activations: QuantizedActivations, batchRow: Int = 0,
                           level: KernelLevel) throws(KernelError) -> Float
    {
        let expected = try ActivationFormat(pairingWith: weights.type, tensor: weights.name)
        guard activations.format == expected, activations.columns == weights.columns,
              row >= 0, row < weights.rows, batchRow >= 0, batchRow < activations.batch
        else {
            throw .activationMismatch(tensor: weights.name,
                                      expected: "\(expected.name) rows of \(weights.columns), row in range",
                                      actual: "\(activations.format.name) rows of \(activations.columns)")
        }
        var result: Float = 0
        let status = activations.withRows { x in
            sparrow_vec_dot(weights.type.rawValue, level.cValue, Int64(weights.columns), weights.rowPointer(row),
                            x.map { $0 + batchRow * activations.rowBytes }, &result)
        }
        guard status == 0 else {
            throw .levelUnavailable(tensor: weights.name, type: weights.type.name, level: level.rawValue)
        }
        return result
    }
}
