/// Errors of the Kernels module. Each message says what was expected and which tensor it concerns.
public enum KernelError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The tensor's element type has no kernel here (Q8_1 and Q8_K are activation formats, not weight types).
    case unsupportedType(tensor: String, type: String)
    /// A row length (ne0) that is not a whole number of the type's blocks, or a negative dimension.
    case badShape(tensor: String, type: String, rows: Int, columns: Int, reason: String)
    /// The byte count given for a tensor is not what its shape and type need.
    case byteCountMismatch(tensor: String, expected: Int, actual: Int)
    /// The activations do not fit the weights (length or format).
    case activationMismatch(tensor: String, expected: String, actual: String)
    /// The requested kernel level has no kernel for this type on this CPU.
    case levelUnavailable(tensor: String, type: String, level: String)
    /// A thread pool of this size could not be started.
    case threadPoolUnavailable(threads: Int)
    /// Memory for a copy of a tensor (the repacked layout) could not be reserved.
    case memoryUnavailable(tensor: String, bytes: Int, reason: String)
    /// The tensor's ggml rows were given back after repacking (`WeightMatrix.originalDiscarded`), and this use would
    /// read them: only products through its repacked kernel may use it.
    case originalDiscarded(tensor: String, use: String)

    /// A one-line message naming the tensor and what was expected.
    public var description: String {
        switch self {
        case let .unsupportedType(tensor, type):
            "tensor '\(tensor)': type \(type) is not supported by the kernels (expected one of "
                + GGMLTypeSupport.supportedNames + ")"
        case let .badShape(tensor, type, rows, columns, reason):
            "tensor '\(tensor)' (\(type), \(rows) rows × \(columns) columns): \(reason)"
        case let .byteCountMismatch(tensor, expected, actual):
            "tensor '\(tensor)': expected \(expected) bytes of data for its shape and type, got \(actual)"
        case let .activationMismatch(tensor, expected, actual):
            "tensor '\(tensor)': expected activations \(expected), got \(actual)"
        case let .levelUnavailable(tensor, type, level):
            "tensor '\(tensor)': no \(level) kernel for \(type) on this CPU"
        case let .memoryUnavailable(tensor, bytes, reason):
            "tensor '\(tensor)': no memory for its repacked copy (\(bytes) bytes): \(reason)"
        case let .originalDiscarded(tensor, use):
            "tensor '\(tensor)': its ggml rows were given back once repacked, and \(use) would read them"
        case let .threadPoolUnavailable(threads):
            "could not start a thread pool of \(threads) threads (expected a count ≥ 1 the system allows)"
        }
    }
}
