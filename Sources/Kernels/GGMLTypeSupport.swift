public import GGUF
internal import CKernels

/// Which ggml types the kernels handle, and the activation format each one is dotted with.
public enum GGMLTypeSupport {
    /// Weight types with a scalar reference dequantizer and dot product.
    public static let supported: [GGMLType] = [
        .f32, .f16, .bf16, .q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K, .iq4_NL, .iq4_XS,
    ]

    static let supportedNames = supported.map(\.name).joined(separator: ", ")

    /// Whether `type` is a weight type the kernels handle.
    public static func isSupported(_ type: GGMLType) -> Bool { supported.contains(type) }

    /// Throws `KernelError.unsupportedType` naming the tensor when `type` is not supported.
    public static func check(_ type: GGMLType, tensor: String) throws(KernelError) {
        guard isSupported(type) else { throw .unsupportedType(tensor: tensor, type: type.name) }
    }
}

/// How activations are quantized before the integer dot product (ggml's `vec_dot_type`).
public enum ActivationFormat: Int32, Sendable, CaseIterable, Codable {
    /// Plain f32 (for F32, F16 and BF16 weights).
    case f32 = 0
    /// ggml's Q8_0 block: f16 scale, 32 × int8 (for Q8_0, Q4_0, Q5_0, IQ4_NL).
    case q8_0 = 8
    /// 32 × int8 with an f32 scale d (an f16 value, as ggml stores it) and the exact f32 sum s = d·Σq
    /// (ggml rounds s to f16; for Q4_1 and Q5_1).
    case q8_1 = 9
    /// ggml's Q8_K block: f32 scale, 256 × int8, sixteen 16-value sums (for the K-quants and IQ4_XS).
    case q8_K = 15

    /// The format a supported weight type pairs with.
    public init(pairingWith type: GGMLType, tensor: String) throws(KernelError) {
        try GGMLTypeSupport.check(type, tensor: tensor)
        guard let format = ActivationFormat(rawValue: sparrow_activation_type(type.rawValue)) else {
            throw .unsupportedType(tensor: tensor, type: type.name)
        }
        self = format
    }

    /// Values per block.
    public var blockSize: Int {
        switch self {
        case .f32: 1
        case .q8_0, .q8_1: 32
        case .q8_K: 256
        }
    }

    /// A short name for messages and reports.
    public var name: String {
        switch self {
        case .f32: "F32"
        case .q8_0: "Q8_0"
        case .q8_1: "Q8_1"
        case .q8_K: "Q8_K"
        }
    }
}
