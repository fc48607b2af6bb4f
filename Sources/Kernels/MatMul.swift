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
                               Int64(activations.batch), buffer.baseAddress)
            }
            initialized = count
        }
        guard status == 0 else {
            throw .levelUnavailable(tensor: weights.name, type: weights.type.name, level: level.rawValue)
        }
        return output
    }

    /// y = W·x for one f32 activation row (quantized once here).
    public static func matVec(_ weights: WeightMatrix, _ x: [Float], level: KernelLevel? = nil,
                              pool: ThreadPool? = nil) throws(KernelError) -> [Float]
    {
        try multiply(weights, QuantizedActivations(x, for: weights), level: level, pool: pool)
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
