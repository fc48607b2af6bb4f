internal import CKernels

/// SIMD features of this CPU that select kernels at run time (recorded in `run-info.json`).
public struct CPUFeatures: Sendable, Hashable, Codable {
    /// AVX2 integer and float instructions.
    public var avx2: Bool
    /// Fused multiply-add (required with AVX2 by the SIMD kernels, which do not fuse).
    public var fma: Bool
    /// Half-precision conversion instructions.
    public var f16c: Bool

    /// The features of the machine this process runs on.
    public static let current: CPUFeatures = {
        let detected = sparrow_detect_cpu_features()
        return CPUFeatures(avx2: detected.avx2 != 0, fma: detected.fma != 0, f16c: detected.f16c != 0)
    }()

    /// A feature set (tests and run records).
    public init(avx2: Bool, fma: Bool, f16c: Bool) {
        self.avx2 = avx2
        self.fma = fma
        self.f16c = f16c
    }
}
