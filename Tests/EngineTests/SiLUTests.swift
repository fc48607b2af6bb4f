import Foundation
import Kernels
import Testing
@testable import Engine

/// `SiLU` (CKernels silu.c) against libm: its e^x is glibc's expf as a CPU with FMA and AVX2 runs it, so on such a
/// machine (this project's CI: Debian's glibc) every level must equal `expf` and `silu(a) * b` bit for bit, NaN
/// payloads included; anywhere, every level must equal the portable one and the values pinned below. Tolerance: none.
@Suite("SiLU gate")
struct SiLUTests {
    /// Float bit patterns 0, s, 2s, … over all 2^32 (every sign, exponent and NaN payload range), then values around
    /// glibc's special-case edges (|x| = 88, the overflow and underflow limits) and the specials themselves.
    static func sweep(stride: UInt32) -> [Float] {
        var values: [Float] = []
        var bits: UInt64 = 0
        while bits < 1 << 32 {
            values.append(Float(bitPattern: UInt32(bits)))
            bits += UInt64(stride)
        }
        for edge: Float in [88, -88, 0x1.62e42ep6, -0x1.9fe368p6, -0x1.9d1d9ep6, 103.5, -103.5, 87.99, -87.99] {
            var x = edge
            for _ in 0..<64 { values.append(x); x = x.nextUp }
            x = edge
            for _ in 0..<64 { x = x.nextDown; values.append(x) }
        }
        values += [0, -0, .infinity, -.infinity, .nan, -.nan, .leastNonzeroMagnitude, -.leastNonzeroMagnitude,
                   .greatestFiniteMagnitude, -.greatestFiniteMagnitude, 1, -1, 0.5, -0.5]
        return values
    }

    /// Equal bits (a NaN's sign and payload too).
    static func same(_ a: Float, _ b: Float) -> Bool { a.bitPattern == b.bitPattern }

    /// Whether libm's expf here is the build the kernels reproduce: glibc runs `__expf_fma` where the CPU has FMA and
    /// AVX2; its other build rounds 2 of the 2^32 floats differently (0x1.04845ep+5 and −0x1.f8cbb2p+5).
    static var libmIsFMABuild: Bool { CPUFeatures.current.fma && CPUFeatures.current.avx2 }

    /// (x, e^x) bit patterns of the FMA build, taken from glibc 2.36's expf on this project's CI machine: what every
    /// level must give on any machine (the last two are the floats where glibc's other build differs).
    static let pinnedExponentials: [(UInt32, UInt32)] = [
        (0x3F80_0000, 0x402D_F854), (0xBF80_0000, 0x3EBC_5AB2), (0x3F00_0000, 0x3FD3_094C), (0x4120_0000, 0x46AC_14EE),
        (0xC120_0000, 0x383E_6BCE), (0x42B0_0000, 0x7EF8_82B7), (0x42B1_7217, 0x7F7F_FF84), (0x42B1_75C3, 0x7F80_0000),
        (0xC2AF_0000, 0x006C_B2BC), (0xC2CE_0000, 0x0000_0001), (0xC2CF_0000, 0x0000_0001), (0xC2D0_0000, 0x0000_0000),
        (0x0000_0000, 0x3F80_0000), (0x8000_0000, 0x3F80_0000), (0x4202_422F, 0x56FC_9F1C), (0xC27C_65D9, 0x11FA_2993),
    ]

    /// (a, silu(a) · 1.5) bit patterns, as `pinnedExponentials`.
    static let pinnedGates: [(UInt32, UInt32)] = [
        (0x3F80_0000, 0x3F8C_5CFE), (0xBF80_0000, 0xBECE_8C0A), (0x4040_0000, 0x4089_2BB2), (0xC1A0_0000, 0xB384_C9F0),
        (0xC202_422F, 0xAAC6_0038), (0x42C8_0000, 0x4316_0000), (0xC2C8_0000, 0x8000_0000),
    ]

    @Test("every level gives the pinned values of glibc's FMA build, on any machine")
    func pinnedValues() {
        let x = Self.pinnedExponentials.map { Float(bitPattern: $0.0) }
        let a = Self.pinnedGates.map { Float(bitPattern: $0.0) }
        let b = [Float](repeating: 1.5, count: a.count)
        for level in SiLU.availableLevels {
            var e = [Float](repeating: 0, count: x.count), g = [Float](repeating: 0, count: a.count)
            SiLU.exponential(x, into: &e, count: x.count, level: level)
            SiLU.multiply(a, by: b, into: &g, count: a.count, level: level)
            for (i, pinned) in Self.pinnedExponentials.enumerated() {
                #expect(e[i].bitPattern == pinned.1, "level \(level): e^\(x[i])")
            }
            for (i, pinned) in Self.pinnedGates.enumerated() {
                #expect(g[i].bitPattern == pinned.1, "level \(level): silu(\(a[i])) · 1.5")
            }
        }
    }

    /// NaN in a, in b, or in both (payloads and signs differing): every level gives the NaN of the gate silu(a) when
    /// it is one, else the product's (the one NaN factor, quieted), as the old Swift loop compiled for x86 did.
    @Test("NaN factors give the gate's NaN first, payload and sign, at every level")
    func nanPayloads() {
        let nans = ([0x7FC0_0001, 0xFFC0_0002, 0x7F80_0003, 0xFFA0_0000] as [UInt32]).map { Float(bitPattern: $0) }
        let others: [Float] = nans + [0, -1.5, .infinity]
        var a: [Float] = [], b: [Float] = []
        for x in nans + [2.5] { for y in others { a.append(x); b.append(y) } }
        for level in SiLU.availableLevels {
            var out = [Float](repeating: 0, count: a.count)
            SiLU.multiply(a, by: b, into: &out, count: a.count, level: level)
            let differing = a.indices.filter { i in
                let gate = silu(a[i])
                return !Self.same(out[i], gate.isNaN ? gate : gate * b[i])
            }.count
            #expect(differing == 0, "level \(level)")
        }
    }

    /// The portable level (whose fused multiply-adds are libm calls where the build has no FMA) is checked through
    /// silu(a)·b in `multiplyEqualsReference` and by the pinned values.
    @Test("e^x equals libm's expf bit for bit at the FMA and AVX-512 levels (8.4 M floats across all bit patterns)")
    func exponentialEqualsLibm() {
        guard Self.libmIsFMABuild else { return }  // libm here is not the build the kernels reproduce
        let x = Self.sweep(stride: 509)
        var reference = [Float](repeating: 0, count: x.count)
        for i in x.indices { reference[i] = expf(x[i]) }
        for level in SiLU.availableLevels where level > 0 {
            var out = [Float](repeating: 0, count: x.count)
            SiLU.exponential(x, into: &out, count: x.count, level: level)
            let bad = x.indices.filter { !Self.same(out[$0], reference[$0]) }
            let differing = bad.count  // a count, not the indices, in a failure's message
            #expect(differing == 0, "level \(level): first x = \(bad.first.map { x[$0] } ?? 0)")
        }
    }

    @Test("every level equals the portable one, and silu(a)·b equals the Swift reference with libm's expf")
    func multiplyEqualsReference() {
        let a = Self.sweep(stride: 4099)  // 1 M values
        let b = a.indices.map { i in Float((i * 7919) % 2001 - 1000) / 37 }
        var reference = [Float](repeating: 0, count: a.count)
        for i in a.indices { reference[i] = silu(a[i]) * b[i] }
        var portable: [Float] = []
        for level in SiLU.availableLevels {
            var out = [Float](repeating: 0, count: a.count)
            SiLU.multiply(a, by: b, into: &out, count: a.count, level: level)
            if level == 0 { portable = out }
            let fromPortable = a.indices.filter { !Self.same(out[$0], portable[$0]) }.count
            #expect(fromPortable == 0, "level \(level) against the portable level")
            if Self.libmIsFMABuild {
                let bad = a.indices.filter { !Self.same(out[$0], reference[$0]) }
                let differing = bad.count
                #expect(differing == 0, "level \(level) against silu(a) * b, first a = \(bad.first.map { a[$0] } ?? 0)")
            }
        }
    }

    /// In place (out = a and out = b, as qwen3next's gated norm calls it) and every tail length past the 16-wide
    /// blocks: the same values as out of place.
    @Test("in place and every tail length give the out-of-place values")
    func inPlaceAndTails() {
        for count in [0, 1, 15, 16, 17, 31, 33, 768, 771] {
            let a = (0..<count).map { Float($0 % 23) * 0.73 - 8 }
            let b = (0..<count).map { Float($0 % 7) - 3.5 }
            var expected = [Float](repeating: 0, count: count)
            for i in 0..<count { expected[i] = silu(a[i]) * b[i] }
            for level in SiLU.availableLevels {
                var intoA = a, intoB = b
                intoA.withUnsafeMutableBufferPointer { ap in
                    b.withUnsafeBufferPointer { bp in
                        guard let pa = ap.baseAddress, let pb = bp.baseAddress else { return }
                        SiLU.multiply(pa, by: pb, into: pa, count: count, level: level)
                    }
                }
                intoB.withUnsafeMutableBufferPointer { bp in
                    a.withUnsafeBufferPointer { ap in
                        guard let pa = ap.baseAddress, let pb = bp.baseAddress else { return }
                        SiLU.multiply(pa, by: pb, into: pb, count: count, level: level)
                    }
                }
                let ok = (0..<count).allSatisfy {
                    Self.same(intoA[$0], expected[$0]) && Self.same(intoB[$0], expected[$0])
                }
                #expect(ok, "level \(level), \(count) values")
            }
        }
    }

    /// The pool form (every expert's gated rows of an MoE layer at once) splits the values into tasks: the same values
    /// as one call, for counts around the task size, with and without a pool.
    @Test("split across a pool, silu(a)·b gives the values of one call")
    func pooled() throws {
        let task = SiLU.valuesPerTask
        for count in [0, 1, task - 1, task, task + 17, 3 * task + 5] {
            let a = (0..<count).map { Float($0 % 29) * 0.61 - 9 }
            let b = (0..<count).map { Float($0 % 11) - 5.25 }
            var expected = [Float](repeating: .nan, count: count)
            a.withUnsafeBufferPointer { ap in
                b.withUnsafeBufferPointer { bp in
                    expected.withUnsafeMutableBufferPointer { ep in
                        guard let pa = ap.baseAddress, let pb = bp.baseAddress, let pe = ep.baseAddress else { return }
                        SiLU.multiply(pa, by: pb, into: pe, count: count)
                    }
                }
            }
            for pool in try [nil, ThreadPool(threads: 2), ThreadPool(threads: 3)] {
                var got = [Float](repeating: .nan, count: count)
                a.withUnsafeBufferPointer { ap in
                    b.withUnsafeBufferPointer { bp in
                        got.withUnsafeMutableBufferPointer { gp in
                            guard let pa = ap.baseAddress, let pb = bp.baseAddress, let pg = gp.baseAddress else {
                                return
                            }
                            SiLU.multiply(pa, by: pb, into: pg, count: count, pool: pool)
                        }
                    }
                }
                let differing = (0..<count).filter { !Self.same(got[$0], expected[$0]) }.count
                #expect(differing == 0, "\(count) values, \(pool?.threadCount ?? 1) threads: \(differing) differ")
            }
        }
    }
}
