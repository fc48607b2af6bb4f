import GGUF
import Testing
@testable import Kernels

@Suite("Activation quantization")
struct ActivationQuantizationTests {
    @Test("Q8_0 equals gguf-py's quantize (bit-exact with ggml's quantize_row_q8_0_ref)")
    func q8_0MatchesGGUFPy() throws {
        let input = try KernelTestData.floats("quantize/Q8_0.input.f32")
        let expected = try KernelTestData.bytes("quantize/Q8_0.blocks")
        let quantized = try QuantizedActivations(input, batch: 1, format: .q8_0, tensor: "fixture")
        let bytes = Array(quantized.bytes(ofRow: 0))
        #expect(bytes.count == expected.count)
        let differing = zip(bytes, expected).enumerated().filter { $0.element.0 != $0.element.1 }.map(\.offset)
        #expect(differing.isEmpty, "\(differing.count) bytes differ, first at \(differing.first ?? -1)")
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

    @Test("a row length that is not a whole number of blocks is an error")
    func badLength() {
        #expect(throws: KernelError.self) {
            try QuantizedActivations([Float](repeating: 1, count: 100), batch: 1, format: .q8_K, tensor: "t")
        }
    }
}
