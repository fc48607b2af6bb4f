import GGUF
import Testing
@testable import Kernels

@Suite("Scalar dequantization equals gguf-py")
struct DequantizeTests {
    @Test("every supported type, bit for bit", arguments: GGMLTypeSupport.supported)
    func matchesGGUFPy(type: GGMLType) throws {
        let blocks = try KernelTestData.bytes("dequant/\(type.name).blocks")
        let expected = try KernelTestData.floats("dequant/\(type.name).f32")
        #expect(!expected.isEmpty)
        let values = try blocks.withUnsafeBytes { raw in
            try Dequantizer.dequantize(type, bytes: raw, count: expected.count, tensor: "fixture.\(type.name)")
        }
        #expect(values.count == expected.count)
        let mismatches = (0..<min(values.count, expected.count)).filter {
            values[$0].bitPattern != expected[$0].bitPattern
        }
        let first = mismatches.first.map { "value \($0): \(values[$0]) vs gguf-py \(expected[$0])" } ?? ""
        #expect(mismatches.isEmpty, "\(mismatches.count) of \(expected.count) differ; first \(first)")
    }

    @Test("an unsupported type is an error naming the tensor and the type")
    func unsupportedType() {
        let bytes = [UInt8](repeating: 0, count: 292)
        #expect(throws: KernelError.unsupportedType(tensor: "blk.0.ffn_down.weight", type: "Q8_K")) {
            try bytes.withUnsafeBytes { raw in
                try Dequantizer.dequantize(.q8_K, bytes: raw, count: 256, tensor: "blk.0.ffn_down.weight")
            }
        }
        let message = KernelError.unsupportedType(tensor: "blk.0.ffn_down.weight", type: "Q8_K").description
        #expect(message.contains("blk.0.ffn_down.weight") && message.contains("Q8_K"))
    }

    @Test("a byte count that does not fit the shape is an error, before any read")
    func wrongByteCount() {
        let bytes = [UInt8](repeating: 0, count: 143)
        #expect(throws: KernelError.byteCountMismatch(tensor: "t", expected: 144, actual: 143)) {
            try bytes.withUnsafeBytes { raw in try Dequantizer.dequantize(.q4_K, bytes: raw, count: 256, tensor: "t") }
        }
        #expect(throws: KernelError.self) {
            try WeightMatrix.over(bytes, type: .q4_K, rows: 1, columns: 100) { _ in }
        }
    }
}
