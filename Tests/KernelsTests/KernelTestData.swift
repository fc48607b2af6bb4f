import Foundation
import GGUF
@testable import Kernels

/// Fixture files (made by Scripts/fixtures/kernels_dequant.py from gguf-py) and seeded random test data.
enum KernelTestData {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func bytes(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: fixtures.appendingPathComponent(path)))
    }

    static func floats(_ path: String) throws -> [Float] {
        let raw = try bytes(path)
        return stride(from: 0, to: raw.count - 3, by: 4).map { i in
            Float(bitPattern: UInt32(raw[i]) | UInt32(raw[i + 1]) << 8 | UInt32(raw[i + 2]) << 16
                | UInt32(raw[i + 3]) << 24)
        }
    }

    /// Byte offsets of the f16 scale fields in one block (ggml-common.h), for generating valid random blocks.
    static func scaleOffsets(_ type: GGMLType) -> [Int] {
        switch type {
        case .q4_0, .q5_0, .q8_0, .iq4_NL, .iq4_XS: [0]
        case .q4_1, .q5_1, .q4_K, .q5_K: [0, 2]
        case .q2_K: [80, 82]
        case .q3_K: [108]
        case .q6_K: [208]
        default: []
        }
    }

    /// `rows × columns` weights of `type`: random bytes with moderate random f16 scales, or normal floats for
    /// F32/F16/BF16.
    static func randomWeights(_ type: GGMLType, rows: Int, columns: Int, seed: UInt64) -> [UInt8] {
        var rng = SplitMix64(seed: seed)
        let count = rows * columns
        switch type {
        case .f32:
            return (0..<count).flatMap { _ in withUnsafeBytes(of: rng.normal().bitPattern.littleEndian, Array.init) }
        case .f16:
            return (0..<count).flatMap { _ in
                withUnsafeBytes(of: Float16(rng.normal()).bitPattern.littleEndian, Array.init)
            }
        case .bf16:
            return (0..<count).flatMap { _ in
                withUnsafeBytes(of: UInt16(truncatingIfNeeded: rng.normal().bitPattern >> 16).littleEndian, Array.init)
            }
        default:
            let blocks = count / type.blockSize
            var bytes = (0..<blocks * type.bytesPerBlock).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            for block in 0..<blocks {
                for offset in scaleOffsets(type) {
                    let scale = Float16(Float(rng.uniform() * 0.02 + 1e-4)).bitPattern
                    bytes[block * type.bytesPerBlock + offset] = UInt8(truncatingIfNeeded: scale)
                    bytes[block * type.bytesPerBlock + offset + 1] = UInt8(truncatingIfNeeded: scale >> 8)
                }
            }
            return bytes
        }
    }

    static func randomActivations(count: Int, seed: UInt64) -> [Float] {
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { _ in rng.normal() }
    }
}

/// A small seeded generator (SplitMix64), so test data is the same on every run.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) }

    mutating func normal() -> Float {
        let u1 = max(uniform(), 1e-300), u2 = uniform()
        return Float((-2 * Foundation.log(u1)).squareRoot() * cos(2 * Double.pi * u2))
    }
}

extension WeightMatrix {
    /// A view over `bytes`; the array must stay alive while the view is used (tests keep it in scope).
    static func over(_ bytes: [UInt8], type: GGMLType, rows: Int, columns: Int, name: String = "test.weight",
                     _ body: (WeightMatrix) throws -> Void) throws {
        try bytes.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            try body(WeightMatrix(name: name, type: type, rows: rows, columns: columns, base: base,
                                  byteCount: raw.count))
        }
    }
}
