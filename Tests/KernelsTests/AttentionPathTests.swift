import Foundation
import Testing
@testable import Kernels

/// The AVX2 attention path (K transposed in blocks of 8 positions, a (row, KV head) unit scoring every head of its
/// group) and the AVX-512 one (blocks of 16) against the portable one-(row, head)-at-a-time path: the same bits for
/// every output value, on the shapes of the models Sparrow runs and on awkward ones (head sizes not a multiple of 8,
/// groups of 1 to 12 heads, rows whose position counts end a block of 8 anywhere).
@Suite("Attention kernel paths")
struct AttentionPathTests {
    @Test("the softmax's exponential is within 2 ulp of e^x on [−87, 0], exactly 1 at 0, 0 below −87, NaN for NaN")
    func exponential() {
        #expect(AttentionKernel.softmaxExponential(0) == 1)
        for x: Float in [-87.5, -100, -.infinity] { #expect(AttentionKernel.softmaxExponential(x) == 0, "\(x)") }
        #expect(AttentionKernel.softmaxExponential(.nan).isNaN)
        var worst = 0.0, at: Float = 0
        for i in 0...200_000 {
            let x = -87 * Float(i) / 200_000
            let exact = Foundation.exp(Double(x))
            let ulp = Double(Float(exact).ulp)
            let error = abs(Double(AttentionKernel.softmaxExponential(x)) - exact) / ulp
            if error > worst { (worst, at) = (error, x) }
        }
        #expect(worst <= 2, "\(worst) ulp at x = \(at)")
    }

    @Test("the fast path gives the portable path's bits where scores are far apart (exponentials at and below the floor)")
    func farApartScores() throws {
        let c = AttentionKernelTests.Case(heads: 9, kvHeads: 3, headDimension: 64, positions: [7, 8, 9, 16, 17, 40],
                                          seed: 5, queryScale: 300)
        let rows = Array(c.positions.indices)
        let fast = try c.run(rows: rows, pool: nil).flatMap { $0 }
        let portable = try c.run(rows: rows, pool: nil, path: .portable).flatMap { $0 }
        #expect(!fast.contains { $0.isNaN })
        #expect(zip(fast, portable).allSatisfy { $0.bitPattern == $1.bitPattern })
    }

    @Test("the fast path gives the portable path's bits", arguments: [
        (32, 4, 128),  // Qwen3-Coder-30B-A3B
        (16, 2, 256),  // Qwen3-Coder-Next's gated attention
        (9, 3, 64),    // SmolLM2-135M
        (6, 2, 20),    // head size not a multiple of 8
        (5, 5, 12),    // one head per group, 4 dimensions past the last block
        (14, 2, 8),    // groups of 7: 4 + 2 + 1 heads side by side
        (24, 2, 48),   // groups of 12: V summed for 8 heads then 4, 32 dimensions then 16 head by head
    ])
    func fastEqualsPortable(shape: (heads: Int, kvHeads: Int, headDimension: Int)) throws {
        let c = AttentionKernelTests.Case(heads: shape.heads, kvHeads: shape.kvHeads, headDimension: shape.headDimension,
                                          positions: [0, 1, 6, 7, 8, 9, 15, 16, 17, 40, 71], seed: 11)
        let rows = Array(c.positions.indices)
        for pool in try [nil, ThreadPool(threads: 2)] {
            let portable = try c.run(rows: rows, pool: pool, path: .portable).flatMap { $0 }
            // The fastest path (AVX-512 here when the CPU has it) and the AVX2 path, which CPUs without AVX-512 run.
            for path in [AttentionKernel.Path.fastest, .avx2] where path != .avx2 || CPUFeatures.current.avx2 {
                let fast = try c.run(rows: rows, pool: pool, path: path).flatMap { $0 }
                #expect(!fast.contains { $0.isNaN }, "every output written")
                let differing = zip(fast, portable).filter { $0.bitPattern != $1.bitPattern }.count
                let threads = pool?.threadCount ?? 1
                #expect(differing == 0, "\(differing) of \(fast.count) values differ, \(path) path, shape \(shape), threads \(threads)")
            }
        }
    }

    @Test("K and V with each head's positions together (a head stride) give the bits of heads side by side, on every path",
          arguments: [(32, 4, 128), (16, 2, 256), (6, 2, 20), (24, 2, 48)])
    func headStride(shape: (heads: Int, kvHeads: Int, headDimension: Int)) throws {
        let c = AttentionKernelTests.Case(heads: shape.heads, kvHeads: shape.kvHeads, headDimension: shape.headDimension,
                                          positions: [0, 1, 7, 8, 16, 17, 40], seed: 23)
        let rows = Array(c.positions.indices)
        let sideBySide = try c.run(rows: rows, pool: nil, path: .portable).flatMap { $0 }
        for pool in try [nil, ThreadPool(threads: 2)] {
            for path in AttentionKernel.Path.allCases where path != .avx2 || CPUFeatures.current.avx2 {
                let strided = try c.run(rows: rows, pool: pool, path: path, headMajor: true).flatMap { $0 }
                let differing = zip(strided, sideBySide).filter { $0.bitPattern != $1.bitPattern }.count
                #expect(differing == 0, "\(differing) of \(strided.count) values differ, \(path) path, shape \(shape)")
            }
        }
    }

    @Test("a head stride shorter than a head is refused")
    func overlappingHeads() throws {
        var scratch: [Float] = []
        let q = [Float](repeating: 1, count: 8), kv = [Float](repeating: 1, count: 8)
        var out = [Float](repeating: 0, count: 8)
        try q.withUnsafeBufferPointer { qp in
            try kv.withUnsafeBufferPointer { kvp in
                try out.withUnsafeMutableBufferPointer { op in
                    var table = [UnsafePointer(kvp.baseAddress!)]
                    try table.withUnsafeMutableBufferPointer { t in
                        let row = AttentionKernel.Row(query: qp.baseAddress!, output: op.baseAddress!, keys: t.baseAddress!,
                                                      values: t.baseAddress!, positions: 1, headStride: 3)
                        #expect(throws: KernelError.self) {
                            try AttentionKernel(heads: 2, kvHeads: 2, headDimension: 4).attend([row], scratch: &scratch,
                                                                                             pool: nil)
                        }
                    }
                }
            }
        }
    }
}
