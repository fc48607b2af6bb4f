import Foundation
import GGUF
import Testing
@testable import Kernels

/// Which level runs: only what the CPU and the OS allow, at most the `SPARROW_KERNEL_LEVEL` ceiling.
@Suite("Kernel level selection")
struct KernelLevelTests {
    // CPUID.1:ECX with OSXSAVE, CPUID.7.0:EBX with AVX-512 F/DQ/BW/VL, CPUID.7.0:ECX with VNNI, XCR0 with the x87,
    // SSE, AVX, opmask and both zmm state bits: what a Sapphire Rapids Xeon under Linux reports for these bits.
    static let osxsave: UInt32 = 1 << 27
    static let f_dq_bw_vl: UInt32 = 1 << 16 | 1 << 17 | 1 << 30 | 1 << 31
    static let vnni: UInt32 = 1 << 11
    static let xcr0: UInt64 = 0b1110_0111

    @Test("AVX-512 is usable only with F, DQ, BW, VL, VNNI, OSXSAVE and the OS saving the opmask and zmm state")
    func avx512Detection() {
        #expect(CPUFeatures.avx512Usable(cpuid1ECX: Self.osxsave, cpuid7EBX: Self.f_dq_bw_vl, cpuid7ECX: Self.vnni,
                                         xcr0: Self.xcr0))
        for bit in [16, 17, 30, 31] {  // each of F, DQ, BW, VL missing
            #expect(!CPUFeatures.avx512Usable(cpuid1ECX: Self.osxsave, cpuid7EBX: Self.f_dq_bw_vl & ~(1 << bit),
                                              cpuid7ECX: Self.vnni, xcr0: Self.xcr0), "EBX bit \(bit)")
        }
        #expect(!CPUFeatures.avx512Usable(cpuid1ECX: Self.osxsave, cpuid7EBX: Self.f_dq_bw_vl, cpuid7ECX: 0,
                                          xcr0: Self.xcr0), "no VNNI")
        #expect(!CPUFeatures.avx512Usable(cpuid1ECX: 0, cpuid7EBX: Self.f_dq_bw_vl, cpuid7ECX: Self.vnni,
                                          xcr0: Self.xcr0), "no OSXSAVE")
        for bit in [1, 2, 5, 6, 7] {  // an OS that does not save one of the xmm, ymm, opmask or zmm states
            #expect(!CPUFeatures.avx512Usable(cpuid1ECX: Self.osxsave, cpuid7EBX: Self.f_dq_bw_vl,
                                              cpuid7ECX: Self.vnni, xcr0: Self.xcr0 & ~(1 << UInt64(bit))),
                    "XCR0 bit \(bit)")
        }
    }

    @Test("AMX is usable only with AMX-TILE, AMX-INT8 and the OS saving the tile configuration and data")
    func amxDetection() {
        let tileInt8: UInt32 = 1 << 24 | 1 << 25, withTiles = Self.xcr0 | 1 << 17 | 1 << 18
        #expect(CPUFeatures.amxUsable(cpuid7EDX: tileInt8, xcr0: withTiles))
        #expect(CPUFeatures.amxUsable(cpuid7EDX: tileInt8 | 1 << 22, xcr0: withTiles))  // with AMX-BF16 too
        #expect(!CPUFeatures.amxUsable(cpuid7EDX: 1 << 24, xcr0: withTiles), "no AMX-INT8")
        #expect(!CPUFeatures.amxUsable(cpuid7EDX: 1 << 25, xcr0: withTiles), "no AMX-TILE")
        #expect(!CPUFeatures.amxUsable(cpuid7EDX: tileInt8, xcr0: Self.xcr0), "an OS without the tile state")
        #expect(!CPUFeatures.amxUsable(cpuid7EDX: tileInt8, xcr0: Self.xcr0 | 1 << 17), "no XTILEDATA")
    }

    /// The vendor decides whether the 1-row Q4_K repacked kernel prefetches; /proc/cpuinfo is the kernel's own reading
    /// of CPUID leaf 0, so the two must agree.
    @Test("this CPU: the detected vendor is the vendor_id /proc/cpuinfo reports",
          .enabled(if: Self.cpuinfoVendor != nil))
    func vendorMatchesCPUInfo() {
        #expect(CPUFeatures.current.vendor == Self.cpuinfoVendor)
        #expect(CPUFeatures.current.vendor?.count == 12)
    }

    /// Linux prints the display family (base plus extended family) as `cpu family`; CPUID.1:EAX is where both come
    /// from, so the two must agree.
    @Test("this CPU: the detected family is the cpu family /proc/cpuinfo reports",
          .enabled(if: Self.cpuinfoField("cpu family") != nil))
    func familyMatchesCPUInfo() {
        #expect(CPUFeatures.current.family.map(String.init) == Self.cpuinfoField("cpu family"))
        let current = CPUFeatures.current
        #expect(CPUFeatures.detectedX16RowPrefetch
            == CPUFeatures.x16RowPrefetch(vendor: current.vendor ?? "", family: current.family ?? 0))
    }

    /// The rule by vendor and family, on CPUID words of real CPUs: the 1-row repacked Q4_K kernel prefetches on Intel
    /// (Emerald Rapids: family 6) and AMD Zen 5 (family 26, EAX 0x00B00F21 on EPYC 9005), not on Zen 4 (family 25,
    /// EAX 0x00A10F11 on EPYC 9004), where it was measured slower.
    @Test("the 1-row prefetch rule: on Intel and Zen 5, not on Zen 4")
    func rowPrefetchRule() {
        #expect(CPUFeatures.displayFamily(cpuid1EAX: 0x00A1_0F11) == 25)
        #expect(CPUFeatures.displayFamily(cpuid1EAX: 0x00B0_0F21) == 26)
        #expect(CPUFeatures.displayFamily(cpuid1EAX: 0x000C_06F1) == 6)  // Emerald Rapids: base family 6, no extension
        #expect(CPUFeatures.x16RowPrefetch(vendor: "GenuineIntel", family: 6))
        #expect(CPUFeatures.x16RowPrefetch(vendor: "AuthenticAMD", family: 26))
        #expect(!CPUFeatures.x16RowPrefetch(vendor: "AuthenticAMD", family: 25))
        #expect(CPUFeatures.x16RowPrefetch(vendor: "GenuineIntel", family: 25))
    }

    /// The first `vendor_id` of /proc/cpuinfo (Linux on x86), else nil.
    static let cpuinfoVendor: String? = cpuinfoField("vendor_id")

    /// The first value of `field` in /proc/cpuinfo (Linux on x86), else nil.
    static func cpuinfoField(_ field: String) -> String? {
        #if arch(x86_64)
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == field {
                return parts[1].trimmingCharacters(in: .whitespaces)
            }
        }
        #endif
        return nil
    }

    @Test("the best level is the highest one available, never above the ceiling")
    func bestLevel() {
        #expect(KernelLevel.best(for: .q4_K, ceiling: .avx512) { _ in true } == .avx512)
        #expect(KernelLevel.best(for: .q4_K, ceiling: .avx512) { $0 != .avx512 } == .avx2)  // a CPU without AVX-512
        #expect(KernelLevel.best(for: .q4_K, ceiling: .avx512) { _ in false } == .scalar)
        #expect(KernelLevel.best(for: .q4_K, ceiling: .avx2) { _ in true } == .avx2)
        #expect(KernelLevel.best(for: .q4_K, ceiling: .scalar) { _ in true } == .scalar)
    }

    /// `best(for:)` and `bestIsAvailable(for:)` are looked up in a table made once: every type must get what choosing
    /// afresh gives.
    @Test("the looked-up level of every type is the one chosen afresh")
    func lookedUpLevels() {
        for type in GGMLType.allCases {
            let chosen = KernelLevel.best(for: type, ceiling: KernelLevel.ceiling) { $0.isAvailable(for: type) }
            #expect(KernelLevel.best(for: type) == chosen, "\(type.name)")
            #expect(KernelLevel.bestIsAvailable(for: type) == chosen.isAvailable(for: type), "\(type.name)")
        }
    }

    @Test("SPARROW_KERNEL_LEVEL names a level; unset or unknown means the highest")
    func ceilingFromEnvironment() {
        #expect(KernelLevel.parseCeiling(nil) == .avx512)
        #expect(KernelLevel.parseCeiling("") == .avx512)
        #expect(KernelLevel.parseCeiling("avx2") == .avx2)
        #expect(KernelLevel.parseCeiling("SCALAR") == .scalar)
        #expect(KernelLevel.parseCeiling("avx512") == .avx512)
        #expect(KernelLevel.parseCeiling("neon") == .avx512)
    }

    @Test("this CPU: the AVX-512 level is available exactly when detection says so, and chosen only then")
    func thisCPU() {
        let has = CPUFeatures.current.avx512 == true && CPUFeatures.current.avx2 && CPUFeatures.current.fma
            && CPUFeatures.current.f16c
        for type in DotProductTests.simdTypes {
            #expect(KernelLevel.avx512.isAvailable(for: type) == has, "\(type.name)")
            if !has { #expect(KernelLevel.best(for: type) != .avx512, "\(type.name)") }
            if has && KernelLevel.ceiling == .avx512 { #expect(KernelLevel.best(for: type) == .avx512) }
        }
    }

    @Test("the AVX-512 level has its own Q4_K, Q5_K, Q6_K, Q8_0, Q4_1 and F32 multi-row kernels and AVX2's for the rest",
          .enabled(if: KernelLevel.avx512.isAvailable(for: .q4_K)))
    func ownKernels() {
        let own: Set<GGMLType> = [.q4_K, .q5_K, .q6_K, .q8_0, .q4_1, .f32]
        for type in DotProductTests.simdTypes {
            #expect(KernelLevel.avx512.hasOwnKernel(for: type) == own.contains(type), "\(type.name)")
            #expect(KernelLevel.avx512.isAvailable(for: type), "\(type.name)")
        }
        #expect(KernelLevel.avx2.hasOwnKernel(for: .bf16))  // the AVX2 level has no fallback: its kernels are its own
    }

    @Test("on a CPU without AVX-512, asking for the AVX-512 level is an error naming the tensor",
          .enabled(if: !KernelLevel.avx512.isAvailable(for: .q4_K)))
    func missingLevel() throws {
        let bytes = KernelTestData.randomWeights(.q4_K, rows: 1, columns: 256, seed: 1)
        try WeightMatrix.over(bytes, type: .q4_K, rows: 1, columns: 256, name: "blk.0.ffn_up.weight") { w in
            let q = try QuantizedActivations([Float](repeating: 1, count: 256), for: w)
            #expect(throws: KernelError.levelUnavailable(tensor: "blk.0.ffn_up.weight", type: "Q4_K", level: "avx512")) {
                try MatMul.dot(w, row: 0, q, level: .avx512)
            }
        }
    }
}
