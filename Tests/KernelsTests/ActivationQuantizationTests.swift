import GGUF
import CKernels
import Testing
@testable import Kernels

@Suite("Activation quantization")
struct ActivationQuantizationTests {
    /// llama.cpp's CPU backend quantizes activations with ggml-cpu's `quantize_row_q8_0` (on x86 the AVX2 version:
    /// ×127/amax, round half to even), not with `quantize_row_q8_0_ref` or gguf-py (÷d, round half away from zero);
    /// the two differ in rare ties, and through a deep model that shifts greedy answers. Sparrow follows what
    /// llama.cpp runs.
    @Test("Q8_0 equals llama.cpp's CPU quantizer (quantize_row_q8_0, AVX2 on x86) byte for byte")
    func q8_0MatchesLlama() throws {
        let input = try KernelTestData.floats("quantize/Q8_0.input.f32")
        let expected = try KernelTestData.bytes("quantize/Q8_0.llama.blocks")
        let quantized = try QuantizedActivations(input, batch: 1, format: .q8_0, tensor: "fixture")
        let bytes = Array(quantized.bytes(ofRow: 0))
        #expect(bytes.count == expected.count)
        let differing = zip(bytes, expected).enumerated().filter { $0.element.0 != $0.element.1 }.map(\.offset)
        #expect(differing.isEmpty, "\(differing.count) bytes differ, first at \(differing.first ?? -1)")
    }

    @Test("Q8_K equals llama.cpp's quantize_row_q8_K_ref byte for byte (scale, quants and 16-value sums)")
    func q8_KMatchesLlama() throws {
        let input = try KernelTestData.floats("quantize/Q8_0.input.f32")
        let expected = try KernelTestData.bytes("quantize/Q8_K.blocks")
        let rows = 3
        let quantized = try QuantizedActivations(input, batch: rows, format: .q8_K, tensor: "fixture")
        let bytes = (0..<rows).flatMap { Array(quantized.bytes(ofRow: $0)) }
        #expect(bytes.count == expected.count)
        let differing = zip(bytes, expected).enumerated().filter { $0.element.0 != $0.element.1 }.map(\.offset)
        #expect(differing.isEmpty, "\(differing.count) bytes differ, first at \(differing.first ?? -1)")
    }

    @Test("Q8_1 has the quants and f16 scale of llama.cpp's CPU quantizer; its block sum is exact where llama.cpp rounds it to f16")
    func q8_1MatchesLlama() throws {
        let input = try KernelTestData.floats("quantize/Q8_0.input.f32")
        let expected = try KernelTestData.bytes("quantize/Q8_1.blocks")  // llama.cpp's quantize_row_q8_1: f16 d, f16 s, 32 × int8
        let quantized = try QuantizedActivations(input, batch: 1, format: .q8_1, tensor: "fixture")
        let ours = Array(quantized.bytes(ofRow: 0))  // Sparrow's block: f32 d, f32 s, 32 × int8
        #expect(ours.count / 40 == expected.count / 36)
        func half(_ bytes: [UInt8], _ at: Int) -> Float { Float(Float16(bitPattern: UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8)) }
        func single(_ bytes: [UInt8], _ at: Int) -> Float {
            Float(bitPattern: UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16
                | UInt32(bytes[at + 3]) << 24)
        }
        for block in 0..<expected.count / 36 {
            let o = block * 40, e = block * 36
            #expect(Array(ours[o + 8..<o + 40]) == Array(expected[e + 4..<e + 36]), "quants of block \(block)")
            #expect(single(ours, o) == half(expected, e), "d of block \(block)")
            // llama.cpp: s = f16(d_f32 · Σq); here s = f16(d) · Σq exactly: they differ by two f16 roundings at most.
            let s = single(ours, o + 4), theirs = half(expected, e + 2)
            #expect(abs(s - theirs) <= abs(s) * 0x1p-10 + 0x1p-24, "s of block \(block): \(s) vs \(theirs)")
        }
    }

    @Test("Q8_1 and Q8_K round-trip within half a step, and Q8_K's block sums are the sums of its quants",
          arguments: [ActivationFormat.q8_1, .q8_K])
    func roundTrip(format: ActivationFormat) throws {
        let x = KernelTestData.randomActivations(count: 1024, seed: 7)
        let q = try QuantizedActivations(x, batch: 1, format: format, tensor: "t")
        let back = q.dequantized(row: 0)
        let block = format.blockSize
        // Q8_1 keeps ggml's f16 scale, which may be off by 2^-11 relative: up to 127 such errors per value.
        let slack: Float = format == .q8_1 ? 127.0 / 2048.0 : 1e-4
        for start in stride(from: 0, to: x.count, by: block) {
            let amax = x[start..<start + block].map(abs).max() ?? 0
            let step = amax / 127
            for i in start..<start + block {
                #expect(abs(back[i] - x[i]) <= step * (0.5 + slack) + 1e-7, "value \(i): \(x[i]) → \(back[i])")
            }
        }
        if format == .q8_K {
            let raw = Array(q.bytes(ofRow: 0))
            for b in 0..<x.count / 256 {
                for g in 0..<16 {
                    let qs = (0..<16).map { Int(Int8(bitPattern: raw[b * 292 + 4 + g * 16 + $0])) }
                    let o = b * 292 + 260 + 2 * g
                    let bsum = Int(Int16(bitPattern: UInt16(raw[o]) | UInt16(raw[o + 1]) << 8))
                    #expect(bsum == qs.reduce(0, +))
                }
            }
        }
    }

    /// quantize_row_q8_K_ref (ggml-quants.c) scans with `if (ax > amax) { amax = ax; max = x[j]; }`: of values of
    /// equal magnitude the first sets the scale's sign (d = −max/127 after iscale = −127/max), a NaN never wins,
    /// and a block of zeros (signed or not) is all zero.
    @Test("Q8_K takes the first value of largest magnitude for its scale, skips NaN, and zeroes a zero block")
    func q8_KScaleChoice() throws {
        func d(_ block: [Float]) throws -> Float {
            let raw = Array(try QuantizedActivations(block, batch: 1, format: .q8_K, tensor: "t").bytes(ofRow: 0))
            return Float(bitPattern: UInt32(raw[0]) | UInt32(raw[1]) << 8 | UInt32(raw[2]) << 16 | UInt32(raw[3]) << 24)
        }
        for (first, second) in [(3, 200), (0, 255), (17, 18), (250, 251)] {
            var block = [Float](repeating: 0.25, count: 256)
            block[first] = -5
            block[second] = 5
            #expect(try d(block) == 1 / (-127 / Float(-5)), "−5 at \(first) before 5 at \(second)")
            block[first] = 5
            block[second] = -5
            #expect(try d(block) == 1 / (-127 / Float(5)), "5 at \(first) before −5 at \(second)")
        }
        var withNaN = [Float](repeating: -0.5, count: 256)
        withNaN[7] = .nan
        withNaN[100] = 2
        #expect(try d(withNaN) == 1 / (-127 / Float(2)))
        let zeros = (0..<256).map { $0 % 2 == 0 ? Float(0) : -Float(0) }
        let raw = Array(try QuantizedActivations(zeros, batch: 1, format: .q8_K, tensor: "t").bytes(ofRow: 0))
        #expect(raw.allSatisfy { $0 == 0 })
    }

    @Test("a row length that is not a whole number of blocks is an error")
    func badLength() {
        #expect(throws: KernelError.self) {
            try QuantizedActivations([Float](repeating: 1, count: 100), batch: 1, format: .q8_K, tensor: "t")
        }
    }
}

/// The AVX-512 Q8_K quantizer (what `sparrow_quantize_activation` runs on such a CPU) gives the portable loops'
/// bytes, which the llama.cpp fixture above pins, on rows built to reach every branch.
@Suite("Q8_K quantizer levels")
struct Q8KQuantizerLevelTests {
    /// Rows of 256 values: random; with ties (halves after scaling); zeros; a NaN among values; several NaN payloads;
    /// ±∞; subnormals only; every value NaN; the largest magnitude twice with both signs (the first wins); negative
    /// largest; values that reach ±127 after rounding.
    static func rows() -> [[Float]] {
        var rows: [[Float]] = []
        for seed in 0..<8 { rows.append(KernelTestData.randomActivations(count: 256, seed: UInt64(100 + seed))) }
        rows.append((0..<256).map { Float($0 % 9) * 0.5 - 2 })  // −127/max · x hits halves
        rows.append([Float](repeating: 0, count: 256))
        var withNaN = KernelTestData.randomActivations(count: 256, seed: 3)
        withNaN[17] = .nan
        rows.append(withNaN)
        rows.append((0..<256).map { (i: Int) -> Float in
            let payload = UInt32(0x7FC0_0000) | UInt32(i * 977)
            return i % 3 == 0 ? Float(bitPattern: payload) : Float(i) - 100
        })
        rows.append((0..<256).map { (i: Int) -> Float in  // NaNs of other payloads, signalling ones too
            Float(bitPattern: UInt32(0xFF80_0001) + UInt32(i * 4099))
        })
        var infinite = KernelTestData.randomActivations(count: 256, seed: 4)
        infinite[5] = .infinity
        infinite[200] = -.infinity
        rows.append(infinite)
        rows.append((0..<256).map { (i: Int) -> Float in
            let subnormal = Float(bitPattern: UInt32(1 + i * 31))
            return i % 2 == 0 ? subnormal : -subnormal
        })
        rows.append([Float](repeating: .nan, count: 256))
        var twice = KernelTestData.randomActivations(count: 256, seed: 5)
        twice[40] = -9
        twice[90] = 9
        rows.append(twice)
        var twiceInOneGroup = KernelTestData.randomActivations(count: 256, seed: 6)  // both in lanes of one 16-group
        twiceInOneGroup[3] = -9
        twiceInOneGroup[7] = 9
        rows.append(twiceInOneGroup)
        rows.append((0..<256).map { i in i == 77 ? -3 : Float(i % 5) * 0.1 })
        rows.append((0..<256).map { i in Float(i) - 127.5 })
        return rows
    }

    @Test("AVX-512 Q8_K bytes equal the portable loops' on every row")
    func avx512EqualsPortable() throws {
        let rows = Self.rows()
        let rowBytes = sparrow_activation_row_bytes(Int32(SPARROW_ACT_Q8_K), 256)
        for (index, row) in rows.enumerated() {
            var fast = [UInt8](repeating: 0xAA, count: rowBytes), portable = [UInt8](repeating: 0x55, count: rowBytes)
            let statuses = row.withUnsafeBufferPointer { x in
                (fast.withUnsafeMutableBytes {
                    sparrow_quantize_activation(Int32(SPARROW_ACT_Q8_K), x.baseAddress, $0.baseAddress, 256)
                },
                 portable.withUnsafeMutableBytes { sparrow_quantize_q8_K_portable(x.baseAddress, $0.baseAddress, 256) })
            }
            #expect(statuses == (0, 0))
            let differing = zip(fast, portable).filter { $0 != $1 }.count
            #expect(differing == 0, "row \(index): \(differing) bytes differ")
        }
    }
}
