import Foundation
import Testing
@testable import Engine

/// `SiLU` (CKernels silu.c) against libm: its e^x is glibc's expf as a CPU with FMA runs it, so on such a machine
/// (this project's CI: Debian's glibc) every level must equal `expf` and `silu(a) * b` bit for bit. Tolerance: none.
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

    /// Equal bits, or both NaN.
    static func same(_ a: Float, _ b: Float) -> Bool { a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN) }

    /// Whether libm's expf here is the FMA build the kernels reproduce (a CPU without FMA runs glibc's other build,
    /// which may round a few values differently; the levels still agree with each other there).
    static var libmIsFMABuild: Bool { SiLU.bestLevel >= 1 }

    @Test("e^x equals libm's expf bit for bit at every level (8.4 M floats across all bit patterns)")
    func exponentialEqualsLibm() {
        let x = Self.sweep(stride: 509)
        var reference = [Float](repeating: 0, count: x.count)
        for i in x.indices { reference[i] = expf(x[i]) }
        for level in SiLU.availableLevels {
            var out = [Float](repeating: 0, count: x.count)
            x.withUnsafeBufferPointer { xp in
                out.withUnsafeMutableBufferPointer { SiLU.exponential(xp.baseAddress!, into: $0.baseAddress!, count: x.count, level: level) }
            }
            if level == 0 || !Self.libmIsFMABuild {
                // The portable level is the reference for the others; without FMA, libm is not.
                continue
            }
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
            a.withUnsafeBufferPointer { ap in
                b.withUnsafeBufferPointer { bp in
                    out.withUnsafeMutableBufferPointer {
                        SiLU.multiply(ap.baseAddress!, by: bp.baseAddress!, into: $0.baseAddress!, count: a.count, level: level)
                    }
                }
            }
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
                let ok = (0..<count).allSatisfy { Self.same(intoA[$0], expected[$0]) && Self.same(intoB[$0], expected[$0]) }
                #expect(ok, "level \(level), \(count) values")
            }
        }
    }
}
