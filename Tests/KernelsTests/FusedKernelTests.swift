import Foundation
import GGUF
import Testing
@testable import Kernels

@Suite("Several products in one pool job")
struct MultiProductTests {
    @Test("each product equals its own multiply call bit for bit, whatever the pool")
    func equalsSeparateCalls() throws {
        // Three weight types, row counts that end chunks unevenly, batches of different sizes.
        let shapes: [(GGMLType, rows: Int, columns: Int, batch: Int)] = [
            (.q4_K, 37, 512, 1), (.q6_K, 5, 256, 3), (.q4_1, 70, 128, 2), (.q8_0, 16, 64, 9), (.q4_K, 1, 256, 4),
        ]
        let weights = shapes.enumerated().map { i, s in
            KernelTestData.randomWeights(s.0, rows: s.rows, columns: s.columns, seed: UInt64(10 + i))
        }
        let pools = try [nil, ThreadPool(threads: 2), ThreadPool(threads: 5)]
        try withMatrices(weights, shapes.map { ($0.0, $0.rows, $0.columns) }) { matrices in
            let activations = try matrices.enumerated().map { i, w in
                let batch = shapes[i].batch
                return try QuantizedActivations(KernelTestData.randomActivations(count: batch * w.columns,
                                                                                 seed: UInt64(70 + i)),
                                                batch: batch, for: w)
            }
            let separate = try zip(matrices, activations).map { try MatMul.multiply($0, $1, pool: nil) }
            for pool in pools {
                let fused = try MatMul.multiply(Array(zip(matrices, activations)).map { (weights: $0, activations: $1) },
                                                pool: pool)
                #expect(fused.count == separate.count)
                for (a, b) in zip(fused, separate) {
                    #expect(a.map(\.bitPattern) == b.map(\.bitPattern), "threads \(pool?.threadCount ?? 1)")
                }
            }
        }
    }

    @Test("a product whose activations do not fit its weights is an error naming the tensor")
    func mismatch() throws {
        let bytes = KernelTestData.randomWeights(.q4_K, rows: 2, columns: 256, seed: 1)
        try WeightMatrix.over(bytes, type: .q4_K, rows: 2, columns: 256, name: "blk.0.ffn_up.weight") { w in
            let wrong = try QuantizedActivations([Float](repeating: 1, count: 256), batch: 1, format: .q8_0,
                                                 tensor: w.name)
            do throws(KernelError) {
                _ = try MatMul.multiply([(weights: w, activations: wrong)])
                Issue.record("expected an activation mismatch")
            } catch {
                #expect(error.description.contains("blk.0.ffn_up.weight"))
            }
        }
    }

    /// Calls `body` with a WeightMatrix over each byte array.
    func withMatrices(_ bytes: [[UInt8]], _ shapes: [(GGMLType, Int, Int)], _ body: ([WeightMatrix]) throws -> Void,
                      _ built: [WeightMatrix] = []) throws
    {
        guard built.count < bytes.count else { return try body(built) }
        let (type, rows, columns) = shapes[built.count]
        try WeightMatrix.over(bytes[built.count], type: type, rows: rows, columns: columns) { w in
            try withMatrices(bytes, shapes, body, built + [w])
        }
    }
}

@Suite("Attention kernel")
struct AttentionKernelTests {
    /// Random query rows over one random cache: row r sits at position positions[r].
    struct Case {
        let heads: Int, kvHeads: Int, headDimension: Int
        let positions: [Int]
        var width: Int { heads * headDimension }
        var kvWidth: Int { kvHeads * headDimension }
        var cacheLength: Int { (positions.max() ?? 0) + 1 }
        let query: [Float]
        let keys: [Float]
        let values: [Float]

        /// Six rows, 6 heads over 2 KV heads of 20 values (not a multiple of 8: the lane tail is used).
        init(seed: UInt64) {
            self.init(heads: 6, kvHeads: 2, headDimension: 20, positions: [0, 3, 4, 11, 11, 30], seed: seed)
        }

        /// `queryScale` multiplies every query value (large ones spread the scores beyond the exponential's floor).
        init(heads: Int, kvHeads: Int, headDimension: Int, positions: [Int], seed: UInt64, queryScale: Float = 1) {
            (self.heads, self.kvHeads, self.headDimension, self.positions) = (heads, kvHeads, headDimension, positions)
            let cacheLength = (positions.max() ?? 0) + 1
            query = KernelTestData.randomActivations(count: positions.count * heads * headDimension, seed: seed)
                .map { $0 * queryScale }
            keys = KernelTestData.randomActivations(count: cacheLength * kvHeads * headDimension, seed: seed + 1)
            values = KernelTestData.randomActivations(count: cacheLength * kvHeads * headDimension, seed: seed + 2)
        }

        /// K or V rearranged head-major, as `KVCacheState` pages keep them: every position of head 0, then of head 1, ….
        private func headMajor(_ rows: [Float]) -> [Float] {
            var out = [Float](repeating: 0, count: rows.count)
            for p in 0..<cacheLength {
                for h in 0..<kvHeads {
                    for i in 0..<headDimension {
                        out[(h * cacheLength + p) * headDimension + i] = rows[p * kvWidth + h * headDimension + i]
                    }
                }
            }
            return out
        }

        /// The outputs of `rows` (indices into positions), computed together on `pool`, on `path`; with `headMajor`,
        /// over K and V laid out head-major (`headMajor(_:)`, each head `cacheLength · headDimension` floats from the
        /// next).
        func run(rows: [Int], pool: ThreadPool?, path: AttentionKernel.Path = .fastest, headMajor: Bool = false) throws
            -> [[Float]]
        {
            let kernel = AttentionKernel(heads: heads, kvHeads: kvHeads, headDimension: headDimension)
            var output = [Float](repeating: .nan, count: rows.count * width)
            var scratch: [Float] = []
            let keys = headMajor ? self.headMajor(self.keys) : self.keys
            let values = headMajor ? self.headMajor(self.values) : self.values
            let positionStride = headMajor ? headDimension : kvWidth
            let headStride = headMajor ? cacheLength * headDimension : 0
            try query.withUnsafeBufferPointer { q in
                try keys.withUnsafeBufferPointer { k in
                    try values.withUnsafeBufferPointer { v in
                        try output.withUnsafeMutableBufferPointer { o in
                            guard let qp = q.baseAddress, let kp = k.baseAddress, let vp = v.baseAddress,
                                  let op = o.baseAddress else { return }
                            let kTable = (0..<cacheLength).map { UnsafePointer(kp + $0 * positionStride) }
                            let vTable = (0..<cacheLength).map { UnsafePointer(vp + $0 * positionStride) }
                            try kTable.withUnsafeBufferPointer { kt in
                                try vTable.withUnsafeBufferPointer { vt in
                                    guard let ktp = kt.baseAddress, let vtp = vt.baseAddress else { return }
                                    let kernelRows = rows.enumerated().map { i, r in
                                        AttentionKernel.Row(query: qp + r * width, output: op + i * width, keys: ktp,
                                                            values: vtp, positions: positions[r] + 1,
                                                            headStride: headStride)
                                    }
                                    try kernel.attend(kernelRows, scratch: &scratch, pool: pool, path: path)
                                }
                            }
                        }
                    }
                }
            }
            return rows.indices.map { Array(output[($0 * width)..<(($0 + 1) * width)]) }
        }

        /// Softmax attention in double precision, written out plainly.
        func reference(row: Int) -> [Double] {
            var out = [Double](repeating: 0, count: width)
            let group = heads / kvHeads
            for h in 0..<heads {
                let kv = (h / group) * headDimension
                let count = positions[row] + 1
                var scores = (0..<count).map { p in
                    (0..<headDimension).reduce(0.0) { s, i in
                        s + Double(query[row * width + h * headDimension + i]) * Double(keys[p * kvWidth + kv + i])
                    } / Double(headDimension).squareRoot()
                }
                let m = scores.max() ?? 0
                scores = scores.map { Foundation.exp($0 - m) }
                let total = scores.reduce(0, +)
                for p in 0..<count {
                    for i in 0..<headDimension {
                        out[h * headDimension + i] += scores[p] / total * Double(values[p * kvWidth + kv + i])
                    }
                }
            }
            return out
        }
    }

    @Test("a row's output does not depend on the other rows or the thread count (bit-identical)")
    func invariance() throws {
        let c = Case(seed: 5)
        let alone = try c.positions.indices.map { try c.run(rows: [$0], pool: nil)[0] }
        for pool in try [nil, ThreadPool(threads: 2), ThreadPool(threads: 4)] {
            for rows in [Array(c.positions.indices), [5, 0, 3], [2, 2]] {
                let together = try c.run(rows: rows, pool: pool)
                for (i, r) in rows.enumerated() {
                    #expect(together[i].map(\.bitPattern) == alone[r].map(\.bitPattern),
                            "row \(r) with \(rows), threads \(pool?.threadCount ?? 1)")
                }
            }
        }
    }

    /// The AVX2 path scores 8 positions at a time (the last 1–7 as a padded block of 8) with each lane adding
    /// q[i]·k[i] in order, as the portable path's one dot per position does.
    @Test("the SIMD path gives the portable path's bits (tails of 1-7 positions, 1-8 query heads per KV head)")
    func simdMatchesPortable() throws {
        let cases = [
            Case(seed: 21),
            Case(heads: 16, kvHeads: 2, headDimension: 128, positions: [0, 6, 7, 8, 9, 15, 16, 62], seed: 31),
            Case(heads: 4, kvHeads: 4, headDimension: 64, positions: [2, 13, 40], seed: 41),
            // AVX-512: blocks of 16 positions with 8, 4+2+1 (7) and 3 heads per KV head; head dimensions past the
            // weighted sum's 32-value steps (144 = 4·32 + 16 and 80 = 2·32 + 16: the rest through the AVX2 sum).
            Case(heads: 16, kvHeads: 2, headDimension: 144, positions: [31, 32, 47, 100], seed: 51),
            Case(heads: 14, kvHeads: 2, headDimension: 80, positions: [16, 33, 95], seed: 61),
            Case(heads: 3, kvHeads: 1, headDimension: 128, positions: [15, 16, 17, 64], seed: 71),
        ]
        for c in cases {
            let rows = Array(c.positions.indices)
            let fast = try c.run(rows: rows, pool: ThreadPool(threads: 2))
            let portable = try c.run(rows: rows, pool: ThreadPool(threads: 2), path: .portable)
            for r in rows {
                #expect(fast[r].map(\.bitPattern) == portable[r].map(\.bitPattern),
                        "\(c.heads)/\(c.kvHeads) heads of \(c.headDimension), row at position \(c.positions[r])")
            }
        }
    }

    @Test("outputs match softmax attention computed in double precision")
    func matchesReference() throws {
        let c = Case(seed: 9)
        let got = try c.run(rows: Array(c.positions.indices), pool: ThreadPool(threads: 2))
        for r in c.positions.indices {
            let expected = c.reference(row: r)
            let worst = zip(got[r], expected).map { abs(Double($0) - $1) }.max() ?? .infinity
            #expect(worst < 1e-5, "row \(r): max abs difference \(worst)")
        }
    }

    @Test("a row with no cache position is refused")
    func emptyRow() throws {
        let kernel = AttentionKernel(heads: 2, kvHeads: 1, headDimension: 8)
        var q = [Float](repeating: 1, count: 16), out = [Float](repeating: 0, count: 16)
        var scratch: [Float] = []
        let key = [Float](repeating: 0, count: 8)
        key.withUnsafeBufferPointer { k in
            guard let kp = k.baseAddress else { return }
            let table = [kp]
            table.withUnsafeBufferPointer { t in
                guard let tp = t.baseAddress else { return }
                q.withUnsafeMutableBufferPointer { qb in
                    out.withUnsafeMutableBufferPointer { ob in
                        guard let qp = qb.baseAddress, let op = ob.baseAddress else { return }
                        let row = AttentionKernel.Row(query: qp, output: op, keys: tp, values: tp, positions: 0)
                        #expect(throws: KernelError.self) { try kernel.attend([row], scratch: &scratch, pool: nil) }
                    }
                }
            }
        }
    }
}

@Suite("Thread pool under contention")
struct PoolContentionTests {
    @Test("more threads than cores: every job is complete even when workers wake late")
    func oversubscribed() throws {
        let pool = try ThreadPool(threads: 9)
        let rows = 300, columns = 256
        let bytes = KernelTestData.randomWeights(.q8_0, rows: rows, columns: columns, seed: 4)
        try WeightMatrix.over(bytes, type: .q8_0, rows: rows, columns: columns) { w in
            let x = KernelTestData.randomActivations(count: columns, seed: 6)
            let expected = try MatMul.matVec(w, x, pool: nil).map(\.bitPattern)
            for _ in 0..<100 {
                #expect(try MatMul.matVec(w, x, pool: pool).map(\.bitPattern) == expected)
            }
        }
    }
}
