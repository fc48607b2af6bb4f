import Kernels

/// Facts about this build and CPU that decide which kernels run (recorded in `run-info.json`: bit-identical
/// results are promised for the same binary and CPU feature level).
public enum EngineInfo {
    /// E.g. `avx2 fma f16c avx512`, or `scalar` when none of the SIMD features is present.
    public static var cpuFeatures: String {
        let features = CPUFeatures.current
        let names = [(features.avx2, "avx2"), (features.fma, "fma"), (features.f16c, "f16c"), (features.avx512 == true, "avx512")].filter(\.0).map(\.1)
        return names.isEmpty ? "scalar" : names.joined(separator: " ")
    }
}
