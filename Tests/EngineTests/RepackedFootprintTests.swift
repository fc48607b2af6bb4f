import Foundation
@testable import Engine
import GGUF
import Kernels
import TestSupport
import Testing

/// What a repacked load holds, estimated from a file's records: the file, the copies of its Q4_K and Q6_K
/// matrices, less the whole huge pages of its Q4_K expert tensors (given back once copied), and at the peak the most
/// one tensor gives back.
@Suite struct RepackedFootprintTests {
    /// The sparse model of `tensors` at a temporary path, its data offsets, and the file parsed from its records.
    private func footprint(_ tensors: [(name: String, type: GGMLType, dimensions: [Int])], hugePage: Int)
        throws -> (RepackedFootprint, offsets: [Int], fileBytes: Int)
    {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-footprint-\(UUID().uuidString).gguf")
        defer { try? FileManager.default.removeItem(at: url) }
        let offsets = try GGUFBuilder.writeSparseModel(to: url, tensors: tensors)
        let file = try GGUFFile(contentsOf: url)
        return (RepackedFootprint(file: file, hugePageBytes: hugePage), offsets, file.fileSize)
    }

    @Test("copies of every Q4_K and Q6_K matrix, less the whole huge pages of Q4_K experts; the embedding only when tied")
    func countsCopiesAndWhatIsGivenBack() throws {
        let page = 2 << 20
        var tensors: [(name: String, type: GGMLType, dimensions: [Int])] = [
            ("token_embd.weight", .q4_K, [2048, 1024]),
            ("blk.0.attn_norm.weight", .f32, [2048]),
            ("blk.0.ffn_down_exps.weight", .q6_K, [768, 2048, 16]),
        ]
        for layer in 0..<4 { tensors.append(("blk.\(layer).ffn_gate_exps.weight", .q4_K, [2048, 768, 16])) }
        tensors.append(("output.weight", .q6_K, [2048, 1024]))
        let (estimate, offsets, fileBytes) = try footprint(tensors, hugePage: page)

        let q4Expert = 16 * (768 / 16) * (2048 / 256) * 2432, q6Expert = 16 * (2048 / 16) * (768 / 256) * 3392
        let output = (1024 / 16) * (2048 / 256) * 3392
        #expect(estimate.copyBytes == 4 * q4Expert + q6Expert + output)
        var given = 0, largest = 0
        for (index, tensor) in tensors.enumerated() where tensor.name.hasSuffix("ffn_gate_exps.weight") {
            let bytes = 16 * 768 * 2048 / 256 * 144
            let pages = max(0, (offsets[index] + bytes) / page - (offsets[index] + page - 1) / page) * page
            given += pages
            largest = max(largest, pages)
        }
        #expect(given > 0 && estimate.discardedBytes == given && estimate.largestDiscardBytes == largest)
        #expect(estimate.heldBytes == fileBytes + estimate.copyBytes - given + page)  // one repacker region's slack
        #expect(estimate.peakBytes == estimate.heldBytes + largest && estimate.peakBytes < 2 * fileBytes)

        // Without output.weight the embedding is also the output matrix, and copied for it.
        let tied = try footprint(tensors.filter { $0.name != "output.weight" }, hugePage: page).0
        #expect(tied.copyBytes == 4 * q4Expert + q6Expert + (1024 / 16) * (2048 / 256) * 2432)
    }

    @Test("a Q6_K expert tensor keeps its originals, and shapes without the layout are not copied")
    func q6KAndOddShapes() throws {
        let (estimate, _, fileBytes) = try footprint([
            ("blk.0.ffn_down_exps.weight", .q6_K, [768, 2048, 16]),
            ("blk.0.attn_q.weight", .q4_K, [2048, 1000]),  // 1,000 rows: not whole groups of 16
            ("blk.0.attn_k.weight", .q8_0, [2048, 512]),
        ], hugePage: 2 << 20)
        #expect(estimate.discardedBytes == 0 && estimate.largestDiscardBytes == 0)
        #expect(estimate.copyBytes == 16 * (2048 / 16) * (768 / 256) * 3392)
        #expect(estimate.peakBytes == fileBytes + estimate.copyBytes + (2 << 20))
    }
}
