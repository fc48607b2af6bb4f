public import GGUF
internal import CKernels

/// Which implementation of a row kernel runs: the scalar reference or the AVX2/FMA/F16C one chosen at run time.
public enum KernelLevel: String, Sendable, CaseIterable, Codable {
    case scalar
    case avx2

    var cValue: Int32 {
        switch self {
        case .scalar: Int32(SPARROW_LEVEL_SCALAR)
        case .avx2: Int32(SPARROW_LEVEL_AVX2)
        }
    }

    /// Whether this level has a kernel for `type` on this CPU (the scalar level covers every supported type).
    public func isAvailable(for type: GGMLType) -> Bool {
        GGMLTypeSupport.isSupported(type) && sparrow_has_kernel(type.rawValue, cValue) != 0
    }

    /// The fastest level with a kernel for `type` on this CPU.
    public static func best(for type: GGMLType) -> KernelLevel {
        KernelLevel.avx2.isAvailable(for: type) ? .avx2 : .scalar
    }
}
