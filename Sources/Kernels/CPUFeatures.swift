internal import CKernels

/// SIMD features of this CPU that select kernels at run time (recorded in `run-info.json`).
public struct CPUFeatures: Sendable, Hashable, Codable {
    /// AVX2 integer and float instructions.
    public var avx2: Bool
    /// Fused multiply-add (required with AVX2 by the SIMD kernels, which do not fuse).
    public var fma: Bool
    /// Half-precision conversion instructions.
    public var f16c: Bool
    /// AVX-512 F, BW, VL, DQ and VNNI with the zmm state enabled by the OS (the AVX-512 kernel level). Optional so
    /// records written before it existed still decode (nil there).
    public var avx512: Bool?
    /// The CPUID vendor string, e.g. `GenuineIntel` or `AuthenticAMD` (empty off x86). Optional so older records
    /// decode.
    public var vendor: String?
    /// The CPU family as /proc/cpuinfo shows it (6 on recent Intel cores, 25 on AMD Zen 3 and 4, 26 on Zen 5; 0 off
    /// x86): with the vendor it decides whether the 1-row Q4_K repacked kernel prefetches (not on AMD family 25,
    /// measured slower there; faster on Intel and Zen 5). Optional so older records decode.
    public var family: Int?

    /// The features of the machine this process runs on.
    public static let current: CPUFeatures = {
        let detected = sparrow_detect_cpu_features()
        return CPUFeatures(avx2: detected.avx2 != 0, fma: detected.fma != 0, f16c: detected.f16c != 0,
                           avx512: detected.avx512 != 0, vendor: detectedVendor(), family: Int(detected.family))
    }()

    /// A feature set (tests and run records).
    public init(avx2: Bool, fma: Bool, f16c: Bool, avx512: Bool? = nil, vendor: String? = nil, family: Int? = nil) {
        self.avx2 = avx2
        self.fma = fma
        self.f16c = f16c
        self.avx512 = avx512
        self.vendor = vendor
        self.family = family
    }

    /// Whether 1-row products on the AVX-512 repacked Q4_K kernel prefetch their weights on a CPU of this vendor and
    /// family (the C kernels' own rule, `sparrow_x16_row_prefetch`).
    static func x16RowPrefetch(vendor: String, family: Int) -> Bool {
        sparrow_x16_row_prefetch(vendor, Int32(family)) != 0
    }

    /// The display family of a CPUID.1:EAX word (`sparrow_cpu_display_family`).
    static func displayFamily(cpuid1EAX: UInt32) -> Int { Int(sparrow_cpu_display_family(cpuid1EAX)) }

    /// What the kernels decided for this CPU at detection (`x16RowPrefetch` of its vendor and family).
    static var detectedX16RowPrefetch: Bool { sparrow_detect_cpu_features().x16_row_prefetch != 0 }

    /// The CPUID vendor string of this CPU (12 characters on x86, empty elsewhere).
    static func detectedVendor() -> String {
        var bytes = [CChar](repeating: 0, count: 13)
        _ = bytes.withUnsafeMutableBufferPointer { sparrow_cpu_vendor($0.baseAddress) }
        return String(decoding: bytes.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Whether the AVX-512 level may run, from raw CPUID and XGETBV words (CPUID.1:ECX, CPUID.7.0:EBX, CPUID.7.0:ECX,
    /// XCR0): the instructions must be there and the OS must save the opmask and zmm state.
    static func avx512Usable(cpuid1ECX: UInt32, cpuid7EBX: UInt32, cpuid7ECX: UInt32, xcr0: UInt64) -> Bool {
        sparrow_avx512_usable(cpuid1ECX, cpuid7EBX, cpuid7ECX, xcr0) != 0
    }

    /// Whether the AMX kernels may run as far as the CPU and the OS's saved state go, from CPUID.7.0:EDX (AMX-TILE,
    /// AMX-INT8) and XCR0 (the tile configuration and data state); Linux's permission is asked at run time.
    static func amxUsable(cpuid7EDX: UInt32, xcr0: UInt64) -> Bool {
        sparrow_amx_usable(cpuid7EDX, xcr0) != 0
    }
}
