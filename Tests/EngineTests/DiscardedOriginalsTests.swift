import Foundation
@testable import Engine
import GGUF
import Kernels
import TestSupport
import Testing

/// A repacked load gives back the file's bytes of Q4_K experts (their copies serve every product, 1 activation row
/// included), and keeps Q6_K's (products of 1-3 rows read the ggml rows). The given-back pages are made inaccessible,
/// so a product that still read an original would crash this test rather than pass on zeros.
@Suite("Originals given back after repacking")
struct DiscardedOriginalsTests {
    static let available = WeightRepacker.isAvailable

    /// A GGUF file holding one expert tensor `{columns, rows, experts}` of `type` with pseudo-random quants and small
    /// finite block scales (the f16 `d` and, for Q4_K, `dmin`), large enough to cover whole huge pages.
    private static func expertFile(type: GGMLType, columns: Int, rows: Int, experts: Int) throws -> URL {
        let blocks = experts * rows * columns / 256
        var generator = GGUFBuilder.Random(seed: 77)
        var data = Data(count: blocks * type.bytesPerBlock)
        data.withUnsafeMutableBytes { raw in
            for i in 0..<raw.count { raw[i] = UInt8(truncatingIfNeeded: generator.next()) }
            for block in 0..<blocks {
                let start = block * type.bytesPerBlock
                // Q4_K: d, dmin at bytes 0-3; Q6_K: d at its last 2 bytes. 0x2C00 is 1/16 in f16.
                let scales = type == .q4_K ? [start, start + 2] : [start + type.bytesPerBlock - 2]
                for offset in scales {
                    raw[offset] = 0x00
                    raw[offset + 1] = 0x2C
                }
            }
        }
        var writer = try GGUFWriter()
        try writer.set("general.architecture", .string("test"))
        try writer.addTensor(name: "blk.0.ffn_gate_exps.weight", dimensions: [columns, rows, experts],
                             type: GGUFTensorType(type), data: data)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-discard-\(UUID().uuidString).gguf")
        try writer.write(to: url)
        return url
    }

    @Test("Q4_K experts: originals given back, every product (1, 2 and 9 rows) equal to the scalar kernel on the file's bytes",
          .enabled(if: available))
    func q4KExpertsGiveBackTheirOriginals() throws {
        let (columns, rows, experts) = (1024, 256, 48)  // 7.1 MB: at least two whole huge pages
        let url = try Self.expertFile(type: .q4_K, columns: columns, rows: rows, experts: experts)
        defer { try? FileManager.default.removeItem(at: url) }
        let inMemory = try GGUFFile(contentsOf: url, storage: .memory)
        let repacker = WeightRepacker(pool: nil)
        let source = TensorSource(file: inMemory, path: url.path, repacker: repacker)
        let matrices = try source.experts("blk.0.ffn_gate_exps.weight", columns: columns, rows: rows, count: experts)
        #expect(repacker.discardedOriginalBytes >= HugePageRegion.pageBytes)
        #expect(repacker.discardedOriginalBytes <= experts * rows * columns / 256 * GGMLType.q4_K.bytesPerBlock)
        // The estimate made from the records before loading (`auto`, the memory checks) matches what the load did.
        let estimate = RepackedFootprint(file: inMemory)
        #expect(estimate.copyBytes == repacker.bytes && estimate.discardedBytes == repacker.discardedOriginalBytes)

        // Uses that would read the given-back rows are refused instead of crashing.
        #expect(matrices.allSatisfy { $0.originalDiscarded })
        let one = try QuantizedActivations((0..<columns).map { Float($0 % 7) - 3 }, batch: 1, for: matrices[5])
        #expect(throws: KernelError.originalDiscarded(tensor: matrices[5].name, use: "a scalar product")) {
            try MatMul.multiply(matrices[5], one, level: .scalar)
        }
        #expect(throws: KernelError.originalDiscarded(tensor: matrices[5].name, use: "dequantizing a row")) {
            try Dequantizer.dequantize(matrices[5], row: 3)
        }

        let mapped = try GGUFFile(contentsOf: url, storage: .mapped)
        let plain = try TensorSource(file: mapped, path: url.path)
            .experts("blk.0.ffn_gate_exps.weight", columns: columns, rows: rows, count: experts)
        let pool = try ThreadPool(threads: 2)
        for expert in [0, 17, 47] {
            for batch in [1, 2, 9] {
                let x = (0..<(batch * columns)).map { Float(sin(Double($0 * 7 + expert))) }
                let q = try QuantizedActivations(x, batch: batch, for: plain[expert])
                let reference = try MatMul.multiply(plain[expert], q, level: .scalar)
                let fast = try MatMul.multiply(matrices[expert], q, pool: pool)
                #expect(fast.map(\.bitPattern) == reference.map(\.bitPattern), "expert \(expert), batch \(batch)")
            }
        }
    }

    /// Loads the one expert tensor of a file of `type` experts from `storage` with a repacker: its matrices, and the
    /// bytes the repacker reports given back.
    private func loadExperts(_ type: GGMLType, experts: Int, from storage: GGUFStorage) throws
        -> (matrices: [WeightMatrix], discarded: Int)
    {
        let url = try Self.expertFile(type: type, columns: 1024, rows: 256, experts: experts)
        defer { try? FileManager.default.removeItem(at: url) }
        let repacker = WeightRepacker(pool: nil)
        let source = TensorSource(file: try GGUFFile(contentsOf: url, storage: storage), path: url.path,
                                  repacker: repacker)
        let matrices = try source.experts("blk.0.ffn_gate_exps.weight", columns: 1024, rows: 256, count: experts)
        return (matrices, repacker.discardedOriginalBytes)
    }

    @Test("Q6_K experts keep their originals (products of 1-3 rows read them)", .enabled(if: available))
    func q6KExpertsKeepTheirOriginals() throws {
        let (matrices, discarded) = try loadExperts(.q6_K, experts: 40, from: .memory)
        #expect(matrices.allSatisfy { $0.repacked != nil })
        #expect(discarded == 0)
    }

    @Test("a mapped file gives nothing back", .enabled(if: available))
    func mappedFileKeepsItsPages() throws {
        #expect(try loadExperts(.q4_K, experts: 48, from: .mapped).discarded == 0)
    }
}
