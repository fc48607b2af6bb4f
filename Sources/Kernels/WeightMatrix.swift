public import GGUF
internal import CKernels

/// A zero-copy view of a 2-D weight tensor in its ggml encoding: `rows` rows (ne1) of `columns` values (ne0), each
/// row `rowBytes` long. The memory (usually the mmapped GGUF data section) must outlive the view.
public struct WeightMatrix: @unchecked Sendable {
    /// The tensor's name, used in error messages.
    public let name: String
    /// The ggml type of every element.
    public let type: GGMLType
    /// Rows (ne1): outputs of a mat-vec.
    public let rows: Int
    /// Values per row (ne0): a multiple of the type's block size.
    public let columns: Int
    /// Bytes of one row: columns / blockSize × bytesPerBlock.
    public let rowBytes: Int
    /// The first byte of row 0.
    public let base: UnsafeRawPointer
    /// The same matrix in the 16-row repacked layout (`WeightRepacker`), or nil. Products read whole groups of
    /// 16 rows from it where the kernel level has a repacked kernel for the type and the product has enough
    /// activation rows (Q4_K 1 or more, Q6_K 4 or more: a Q6_K product of 1-3 rows reads the ggml rows,
    /// `ck_x16_takes_batch`); the results are the same bits.
    public internal(set) var repacked: UnsafeRawPointer?
    /// Whether the ggml rows at `base` were given back to the system once the repacked copy was made
    /// (`GGUFFile.discard`): reading them would crash, so every use that would is refused with `originalDiscarded`
    /// (`checkOriginalReadable`).
    public private(set) var originalDiscarded = false

    /// This matrix marked as having given back its ggml rows (the caller gave them back; it must have a repacked
    /// copy that serves every product).
    public func withOriginalDiscarded() -> WeightMatrix {
        var copy = self
        copy.originalDiscarded = true
        return copy
    }

    /// Throws `originalDiscarded` when the ggml rows were given back and a use at `level` with `batch` activation
    /// rows (nil: a use that reads rows, such as dequantizing) would read them rather than the repacked copy. `use`
    /// (for the message) is only built when it throws: products call this every step.
    func checkOriginalReadable(level: KernelLevel?, batch: Int?, use: @autoclosure () -> String) throws(KernelError) {
        guard originalDiscarded else { return }
        if let level, let batch, repacked != nil, sparrow_has_repacked_kernel(type.rawValue, level.cValue) != 0,
           WeightRepacker.copyServesProduct(of: type, batch: batch)
        {
            return
        }
        throw .originalDiscarded(tensor: name, use: use())
    }

    /// Checks the type, the shape and the byte count before any kernel reads the memory.
    public init(name: String, type: GGMLType, rows: Int, columns: Int, base: UnsafeRawPointer, byteCount: Int)
        throws(KernelError)
    {
        try GGMLTypeSupport.check(type, tensor: name)
        guard rows >= 0, columns >= 0 else {
            throw .badShape(tensor: name, type: type.name, rows: rows, columns: columns,
                            reason: "expected non-negative dimensions")
        }
        guard columns % type.blockSize == 0 else {
            throw .badShape(tensor: name, type: type.name, rows: rows, columns: columns,
                            reason: "expected a row length that is a multiple of the block size \(type.blockSize)")
        }
        let (rowBytes, o1) = (columns / type.blockSize).multipliedReportingOverflow(by: type.bytesPerBlock)
        let (total, o2) = rowBytes.multipliedReportingOverflow(by: rows)
        guard !o1, !o2, total == byteCount else {
            throw .byteCountMismatch(tensor: name, expected: o1 || o2 ? Int.max : total, actual: byteCount)
        }
        self.name = name
        self.type = type
        self.rows = rows
        self.columns = columns
        self.rowBytes = rowBytes
        self.base = base
    }

    /// The first byte of row `row` (0 ≤ row < rows; checked by the callers in this module).
    func rowPointer(_ row: Int) -> UnsafeRawPointer { base + row * rowBytes }
}
