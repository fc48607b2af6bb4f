import GGUF
internal import CKernels

/// A batch of activation rows quantized once to the format a weight type pairs with (ggml's reference quantizers:
/// `quantize_row_q8_0_ref`, `quantize_row_q8_1_ref`, `quantize_row_q8_K_ref`), ready for the integer dot products.
public struct QuantizedActivations: Sendable {
    /// The block format of every row.
    public private(set) var format: ActivationFormat
    /// Values per row.
    public private(set) var columns: Int
    /// Rows in the batch.
    public private(set) var batch: Int
    /// Bytes per quantized row.
    public private(set) var rowBytes: Int
    /// `batch` rows of `rowBytes` bytes at a fixed address (several batches can go to one C call).
    private(set) var storage: ActivationBuffer

    /// No rows yet: a value to `gather` or `requantize` into (its storage is replaced by the first that needs room).
    public init() {
        format = .q8_K
        columns = 0
        batch = 0
        rowBytes = 0
        storage = ActivationBuffer(byteCount: 1)
    }

    /// Quantizes `values` (`batch` rows of `columns` floats, row-major) to `format`. `tensor` names the weight in
    /// errors.
    public init(_ values: [Float], batch: Int, format: ActivationFormat, tensor: String) throws(KernelError) {
        guard batch > 0, values.count % batch == 0 else {
            throw .activationMismatch(tensor: tensor, expected: "a whole number of rows in a batch of \(batch)",
                                      actual: "\(values.count) values")
        }
        let columns = values.count / batch
        let rowBytes = try Self.rowBytes(columns: columns, format: format, tensor: tensor, actual: "rows of \(columns) values")
        let storage = ActivationBuffer(byteCount: rowBytes * batch)
        values.withUnsafeBufferPointer { source in
            guard let input = source.baseAddress else { return }
            Self.quantize(input, batch: batch, columns: columns, rowBytes: rowBytes, format: format, into: storage)
        }
        self.format = format
        self.columns = columns
        self.batch = batch
        self.rowBytes = rowBytes
        self.storage = storage
    }

    /// Quantizes `batch` rows of `columns` floats at `values` into this value's storage, which is reused when it is
    /// large enough and not shared with a copy (so a decode loop that re-quantizes the same shape allocates nothing);
    /// the same bytes as `init(_:batch:format:tensor:)` gives. With a `pool`, groups of rows are quantized on its
    /// threads (each row is quantized alone, so the bytes do not depend on the pool); must not be called from inside
    /// one of that pool's jobs.
    public mutating func requantize(_ values: UnsafePointer<Float>, batch: Int, columns: Int, format: ActivationFormat,
                                    tensor: String, pool: ThreadPool? = nil) throws(KernelError)
    {
        // The description is built only for an error: a decode step re-quantizes many times and allocates nothing.
        let actual = { "\(batch) rows of \(columns) values" }
        guard batch > 0, columns >= 0 else { throw Self.mismatch(format: format, tensor: tensor, actual: actual()) }
        let rowBytes = try Self.rowBytes(columns: columns, format: format, tensor: tensor, actual: actual())
        if !isKnownUniquelyReferenced(&storage) || storage.byteCount < rowBytes * batch {
            storage = ActivationBuffer(byteCount: rowBytes * batch)
        }
        Self.quantize(values, batch: batch, columns: columns, rowBytes: rowBytes, format: format, into: storage,
                      pool: pool)
        self.format = format
        self.columns = columns
        self.batch = batch
        self.rowBytes = rowBytes
    }

    /// Makes this value hold copies of `rows` of `source` (in that order, repeats allowed), in its own storage
    /// (reused when large enough and not shared): the bytes quantizing those rows again would give, without the work.
    /// The mixture-of-experts layer quantizes a batch once and gathers each expert's tokens from it.
    public mutating func gather(rows: [Int], from source: QuantizedActivations) throws(KernelError) {
        guard !rows.isEmpty else {
            throw .activationMismatch(tensor: "gather", expected: "at least one row", actual: "no rows")
        }
        for row in rows where !(0..<source.batch).contains(row) {
            throw .activationMismatch(tensor: "gather", expected: "rows in 0..<\(source.batch)", actual: "row \(row)")
        }
        let byteCount = source.rowBytes * rows.count
        if !isKnownUniquelyReferenced(&storage) || storage.byteCount < byteCount {
            storage = ActivationBuffer(byteCount: byteCount)
        }
        withExtendedLifetime(source.storage) {
            for (index, row) in rows.enumerated() {
                (storage.bytes + index * source.rowBytes).copyMemory(from: source.storage.bytes + row * source.rowBytes,
                                                                     byteCount: source.rowBytes)
            }
        }
        format = source.format
        columns = source.columns
        batch = rows.count
        rowBytes = source.rowBytes
    }

    /// Bytes per quantized row of `columns` values; throws unless `columns` is a whole number of `format`'s blocks.
    private static func rowBytes(columns: Int, format: ActivationFormat, tensor: String,
                                 actual: @autoclosure () -> String)
        throws(KernelError) -> Int
    {
        let rowBytes = sparrow_activation_row_bytes(format.rawValue, Int64(columns))
        guard rowBytes > 0 || columns == 0, columns % format.blockSize == 0 else {
            throw mismatch(format: format, tensor: tensor, actual: actual())
        }
        return rowBytes
    }

    private static func mismatch(format: ActivationFormat, tensor: String, actual: String) -> KernelError {
        .activationMismatch(tensor: tensor, expected: "rows of a multiple of \(format.blockSize) values (\(format.name))",
                            actual: actual)
    }

    /// Quantizes `batch` rows of `columns` floats at `values` into `storage`, `rowBytes` apart: on this thread, or
    /// with a pool of several threads and at least `rowsPerTask` rows, in groups of that many rows across the pool
    /// (a 512-token prefill of qwen3moe spent 3.8 % of its CPU time here, on one thread while the other waited).
    private static func quantize(_ values: UnsafePointer<Float>, batch: Int, columns: Int, rowBytes: Int,
                                 format: ActivationFormat, into storage: ActivationBuffer, pool: ThreadPool? = nil)
    {
        var job = QuantizeJob(values: values, columns: columns, bytes: storage.bytes, rowBytes: rowBytes,
                              format: format.rawValue, batch: batch)
        guard let pool, pool.threadCount > 1, batch >= 2 * QuantizeJob.rowsPerTask else {
            job.quantize(rows: 0..<batch)
            return
        }
        withUnsafeMutablePointer(to: &job) { pointer in
            let tasks = (batch + QuantizeJob.rowsPerTask - 1) / QuantizeJob.rowsPerTask
            ThreadPool.run(pool, count: tasks, context: UnsafeMutableRawPointer(pointer)) { context, index in
                guard let job = context?.assumingMemoryBound(to: QuantizeJob.self).pointee else { return }
                let start = Int(index) * QuantizeJob.rowsPerTask
                job.quantize(rows: start..<min(start + QuantizeJob.rowsPerTask, job.batch))
            }
        }
    }

    /// Quantizes `values` for the weight type of `matrix` (a single row when `batch` is 1).
    public init(_ values: [Float], batch: Int = 1, for matrix: WeightMatrix) throws(KernelError) {
        try self.init(values, batch: batch, format: ActivationFormat(pairingWith: matrix.type, tensor: matrix.name),
                      tensor: matrix.name)
    }

    /// The raw bytes of row `row` in the C block layout (for tests against other quantizers).
    public func bytes(ofRow row: Int) -> ArraySlice<UInt8> {
        Array(UnsafeRawBufferPointer(start: storage.bytes + row * rowBytes, count: rowBytes))[...]
    }

    /// The values the quantized row stands for: d·q per block (ggml's dequantize_row_q8_*), in f32.
    public func dequantized(row: Int) -> [Float] {
        let bytes = bytes(ofRow: row)
        func f32(_ at: Int) -> Float {
            let b = bytes.startIndex + at
            let bits = UInt32(bytes[b]) | UInt32(bytes[b + 1]) << 8 | UInt32(bytes[b + 2]) << 16
                | UInt32(bytes[b + 3]) << 24
            return Float(bitPattern: bits)
        }
        func i8(_ at: Int) -> Float { Float(Int8(bitPattern: bytes[bytes.startIndex + at])) }
        var out: [Float] = []
        out.reserveCapacity(columns)
        switch format {
        case .f32:
            for i in 0..<columns { out.append(f32(4 * i)) }
        case .q8_0:
            for block in 0..<columns / 32 {
                let o = block * 34
                let h = UInt16(bytes[bytes.startIndex + o]) | UInt16(bytes[bytes.startIndex + o + 1]) << 8
                let d = Float(Float16(bitPattern: h))
                for j in 0..<32 { out.append(i8(o + 2 + j) * d) }
            }
        case .q8_1:
            for block in 0..<columns / 32 {
                let o = block * 40
                let d = f32(o)
                for j in 0..<32 { out.append(i8(o + 8 + j) * d) }
            }
        case .q8_K:
            for block in 0..<columns / 256 {
                let o = block * 292
                let d = f32(o)
                for j in 0..<256 { out.append(i8(o + 4 + j) * d) }
            }
        }
        return out
    }

    /// Calls `body` with the first byte of row 0 (storage always holds at least one byte).
    func withRows<R>(_ body: (UnsafeRawPointer?) -> R) -> R {
        withExtendedLifetime(storage) { body(UnsafeRawPointer(storage.bytes)) }
    }
}

/// One quantization of a batch, as a plain value a C pool job can read through its context pointer.
private struct QuantizeJob {
    /// Rows per pool task: enough to outweigh handing the task out.
    static let rowsPerTask = 4
    let values: UnsafePointer<Float>
    let columns: Int
    let bytes: UnsafeMutableRawPointer
    let rowBytes: Int
    let format: Int32
    let batch: Int

    func quantize(rows: Range<Int>) {
        for row in rows {
            _ = sparrow_quantize_activation(format, values + row * columns, bytes + row * rowBytes, Int64(columns))
        }
    }
}

/// Quantized activation bytes at a fixed address for as long as the buffer lives.
final class ActivationBuffer: @unchecked Sendable {
    // Written only while the owning QuantizedActivations is built; read-only afterwards.
    let bytes: UnsafeMutableRawPointer
    let byteCount: Int

    /// At least one byte, zeroed.
    init(byteCount: Int) {
        self.byteCount = max(1, byteCount)
        bytes = .allocate(byteCount: self.byteCount, alignment: 64)
        bytes.initializeMemory(as: UInt8.self, repeating: 0, count: self.byteCount)
    }

    deinit { bytes.deallocate() }
}
