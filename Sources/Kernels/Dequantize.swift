public import GGUF
internal import CKernels

/// Scalar reference dequantization (C, no FMA contraction), equal bit for bit to gguf-py's
/// `gguf.quants.dequantize`.
public enum Dequantizer {
    /// Dequantizes `count` values of `type` from `bytes`. `tensor` names the data in errors.
    public static func dequantize(_ type: GGMLType, bytes: UnsafeRawBufferPointer, count: Int, tensor: String)
        throws(KernelError) -> [Float]
    {
        try GGMLTypeSupport.check(type, tensor: tensor)
        guard count >= 0, count % type.blockSize == 0 else {
            throw .badShape(tensor: tensor, type: type.name, rows: 1, columns: count,
                            reason: "expected a value count that is a multiple of the block size \(type.blockSize)")
        }
        let needed = count / type.blockSize * type.bytesPerBlock
        guard bytes.count == needed else {
            throw .byteCountMismatch(tensor: tensor, expected: needed, actual: bytes.count)
        }
        guard count > 0, let source = bytes.baseAddress else { return [] }
        var status: Int32 = 0
        let values = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            status = sparrow_dequantize(type.rawValue, source, buffer.baseAddress, Int64(count))
            initialized = status == 0 ? count : 0
        }
        guard status == 0 else { throw .unsupportedType(tensor: tensor, type: type.name) }
        return values
    }

    /// Dequantizes row `row` of a weight matrix.
    public static func dequantize(_ matrix: WeightMatrix, row: Int) throws(KernelError) -> [Float] {
        try matrix.checkOriginalReadable(level: nil, batch: nil, use: "dequantizing a row")
        guard row >= 0, row < matrix.rows else {
            throw .badShape(tensor: matrix.name, type: matrix.type.name, rows: matrix.rows, columns: matrix.columns,
                            reason: "row \(row) is out of range")
        }
        let bytes = UnsafeRawBufferPointer(start: matrix.rowPointer(row), count: matrix.rowBytes)
        return try dequantize(matrix.type, bytes: bytes, count: matrix.columns, tensor: matrix.name)
    }

    /// Dequantizes row `row` of a weight matrix into `output` (`matrix.columns` floats; the values `dequantize(_:row:)`
    /// returns, without allocating).
    public static func dequantize(_ matrix: WeightMatrix, row: Int, into output: UnsafeMutablePointer<Float>)
        throws(KernelError)
    {
        try matrix.checkOriginalReadable(level: nil, batch: nil, use: "dequantizing a row")
        guard row >= 0, row < matrix.rows else {
            throw .badShape(tensor: matrix.name, type: matrix.type.name, rows: matrix.rows, columns: matrix.columns,
                            reason: "row \(row) is out of range")
        }
        try GGMLTypeSupport.check(matrix.type, tensor: matrix.name)
        guard matrix.columns > 0 else { return }
        guard sparrow_dequantize(matrix.type.rawValue, matrix.rowPointer(row), output, Int64(matrix.columns)) == 0 else {
            throw .unsupportedType(tensor: matrix.name, type: matrix.type.name)
        }
    }
}
