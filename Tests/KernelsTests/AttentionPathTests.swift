import Foundation
import Testing
@testable import Kernels

/// The AVX2 attention path (K transposed in blocks of 8 positions, a (row, KV head) unit scoring every head of its
/// group) against the portable one-(row, head)-at-a-time path: the same bits for every output value, on the shapes
/// of the models Sparrow runs and on awkward ones (head sizes not a multiple of 8, groups of 1 to 8 heads, rows
/// whose position counts end a block of 8 anywhere).
@Suite("Attention kernel paths")
struct AttentionPathTests {
    /// Random queries for `positions.count` rows over one random cache of `max(positions) + 1` positions; row r
    /// attends to positions 0 ... positions[r].
    static func outputs(heads: Int, kvHeads: Int, headDimension: Int, positions: [Int], portable: Bool,
                        pool: ThreadPool?, seed: UInt64) throws -> [Float] {
        let width = heads * headDimension, kvWidth = kvHeads * headDimension
        let cacheLength = (positions.max() ?? 0) + 1
        let query = KernelTestData.randomActivations(count: positions.count * width, seed: seed)
        let keys = KernelTestData.randomActivations(count: cacheLength * kvWidth, seed: seed + 1)
        let values = KernelTestData.randomActivations(count: cacheLength * kvWidth, seed: seed + 2)
        var output = [Float](repeating: .nan, count: positions.count * width)
        var scratch: [Float] = []
        let kernel = AttentionKernel(heads: heads, kvHeads: kvHeads, headDimension: headDimension)
        try query.withUnsafeBufferPointer { q in
            try keys.withUnsafeBufferPointer { k in
                try values.withUnsafeBufferPointer { v in
                    try output.withUnsafeMutableBufferPointer { o in
                        guard let qp = q.baseAddress, let kp = k.baseAddress, let vp = v.baseAddress,
                              let op = o.baseAddress else { return }
                        let kTable = (0..<cacheLength).map { UnsafePointer(kp + $0 * kvWidth) }
                        let vTable = (0..<cacheLength).map { UnsafePointer(vp + $0 * kvWidth) }
                        try kTable.withUnsafeBufferPointer { kt in
                            try vTable.withUnsafeBufferPointer { vt in
                                guard let ktp = kt.baseAddress, let vtp = vt.baseAddress else { return }
                                let rows = positions.enumerated().map { r, position in
                                    AttentionKernel.Row(query: qp + r * width, output: op + r * width, keys: ktp,
                                                        values: vtp, positions: position + 1)
                                }
                                try kernel.attend(rows, scratch: &scratch, pool: pool, portable: portable)
                            }
                        }
                    }
                }
            }
        }
        return output
    }

    @Test("the fast path gives the portable path's bits", arguments: [
        (32, 4, 128),  // Qwen3-Coder-30B-A3B
        (16, 2, 256),  // Qwen3-Coder-Next's gated attention
        (9, 3, 64),    // SmolLM2-135M
        (6, 2, 20),    // head size not a multiple of 8
        (5, 5, 12),    // one head per group, 4 dimensions past the last block
        (14, 2, 8),    // groups of 7: 4 + 2 + 1 heads side by side
    ])
    func fastEqualsPortable(shape: (heads: Int, kvHeads: Int, headDimension: Int)) throws {
        let positions = [0, 1, 6, 7, 8, 9, 15, 16, 17, 40, 71]
        for pool in try [nil, ThreadPool(threads: 2)] {
            let fast = try Self.outputs(heads: shape.heads, kvHeads: shape.kvHeads, headDimension: shape.headDimension,
                                        positions: positions, portable: false, pool: pool, seed: 11)
            let portable = try Self.outputs(heads: shape.heads, kvHeads: shape.kvHeads, headDimension: shape.headDimension,
                                            positions: positions, portable: true, pool: pool, seed: 11)
            #expect(!fast.contains { $0.isNaN }, "every output written")
            let differing = zip(fast, portable).filter { $0.bitPattern != $1.bitPattern }.count
            #expect(differing == 0, "\(differing) of \(fast.count) values differ, shape \(shape), threads \(pool?.threadCount ?? 1)")
        }
    }
}
