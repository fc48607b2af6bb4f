import GGUF
import Testing
@testable import Kernels

@Suite("Mat-vec and mat-mat")
struct MatMulTests {
    static let types: [GGMLType] = [.q4_K, .q6_K, .q8_0, .q4_1, .q5_K, .q5_0, .iq4_XS, .q3_K, .f16, .f32]

    @Test("a row's result does not depend on the batch or the thread count (bit-identical)", arguments: types)
    func batchAndThreadInvariance(type: GGMLType) throws {
        let rows = 37, columns = 512  // rows not a multiple of the chunk size, so chunks end unevenly
        let bytes = KernelTestData.randomWeights(type, rows: rows, columns: columns, seed: 3)
        let pools = try [nil, ThreadPool(threads: 2), ThreadPool(threads: 3)]
        try WeightMatrix.over(bytes, type: type, rows: rows, columns: columns) { w in
            let sequences = (0..<11).map { KernelTestData.randomActivations(count: columns, seed: UInt64(40 + $0)) }
            for level in KernelLevel.allCases where level.isAvailable(for: type) {
                // Each sequence alone, on this thread.
                let alone = try sequences.map { try MatMul.matVec(w, $0, level: level, pool: nil) }
                for batchSize in [1, 2, 5, 8, 11] {
                    for pool in pools {
                        let batch = try QuantizedActivations(Array(sequences[0..<batchSize].joined()), batch: batchSize,
                                                             for: w)
                        let y = try MatMul.multiply(w, batch, level: level, pool: pool)
                        #expect(y.count == batchSize * rows)
                        for b in 0..<batchSize {
                            let same = (0..<rows).allSatisfy { y[b * rows + $0].bitPattern == alone[b][$0].bitPattern }
                            let threads = pool?.threadCount ?? 1
                            #expect(same, "\(type.name) \(level) batch \(batchSize) threads \(threads) row \(b)")
                        }
                    }
                }
            }
        }
    }

    /// One tile, several, a last tile of 1 to 3 rows; more weight rows than one pass; rows up to and past the tile's
    /// length limit.
    @Test("batches through few-rows and tile kernels give the scalar row kernel's bits",
          arguments: [GGMLType.q4_K, .q6_K])
    func interleavedTiles(type: GGMLType) throws {
        // 16 blocks is the longest row a tile on the stack takes; 17 falls back to the multi-row kernel. 300 rows are
        // more than one pass (256 rows) over a batch's tiles.
        for columns in [16 * 256, 17 * 256] {
            let rows = 300
            let bytes = KernelTestData.randomWeights(type, rows: rows, columns: columns, seed: 12)
            let pool = try ThreadPool(threads: 2)
            try WeightMatrix.over(bytes, type: type, rows: rows, columns: columns) { w in
                let x = (0..<19).flatMap { KernelTestData.randomActivations(count: columns, seed: UInt64(60 + $0)) }
                for batch in [2, 3, 4, 8, 11, 17, 19] {
                    let q = try QuantizedActivations(Array(x[0..<batch * columns]), batch: batch, for: w)
                    let y = try MatMul.multiply(w, q, level: KernelLevel.best(for: type), pool: pool)
                    for b in 0..<batch {
                        let rowsAgree = try (0..<rows).allSatisfy { row in
                            let reference = try MatMul.dot(w, row: row, q, batchRow: b, level: .scalar)
                            return y[b * rows + row].bitPattern == reference.bitPattern
                        }
                        #expect(rowsAgree, "\(type.name) columns \(columns) batch \(batch) row \(b)")
                    }
                }
            }
        }
    }

    /// F32 batches go through a kernel that takes a tile's weight rows at once and converts the activations to
    /// double in chunks of 256 columns: rows of 2,048 (8 chunks), 869 (a part chunk and a tail), 300, 32 and 15 (a
    /// tail alone); 37 rows, so the last tile has fewer than 16; row 5 the fold-order pattern (±2^60 in lanes 0 and
    /// 8 of each 16-value step), against an activation row of ones (row 7), where only the documented fold keeps the
    /// ones.
    @Test("F32 batches through the tile-rows kernel give the scalar reference's bits (chunks, tail, fold order)",
          .enabled(if: KernelLevel.avx512.hasOwnKernel(for: .f32)))
    func floatTileRows() throws {
        let pool = try ThreadPool(threads: 2)
        for columns in [2048, 869, 300, 32, 15] {
            let rows = 37
            var bytes = KernelTestData.randomWeights(.f32, rows: rows, columns: columns, seed: 21)
            let pattern = (0..<columns).map { i -> Float in i % 16 == 0 ? 0x1p60 : i % 16 == 8 ? -0x1p60 : 1 }
            bytes.replaceSubrange((5 * 4 * columns)..<(6 * 4 * columns),
                                  with: pattern.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) })
            let x = (0..<11).flatMap { row in
                row == 7 ? [Float](repeating: 1, count: columns)
                    : KernelTestData.randomActivations(count: columns, seed: UInt64(80 + row))
            }
            try WeightMatrix.over(bytes, type: .f32, rows: rows, columns: columns) { w in
                for batch in [2, 3, 8, 11] {
                    let q = try QuantizedActivations(Array(x[0..<batch * columns]), batch: batch, for: w)
                    let y = try MatMul.multiply(w, q, level: .avx512, pool: pool)
                    for b in 0..<batch {
                        let mismatches = try (0..<rows).filter { row in
                            let reference = try MatMul.dot(w, row: row, q, batchRow: b, level: .scalar)
                            return y[b * rows + row].bitPattern != reference.bitPattern
                        }
                        #expect(mismatches.isEmpty,
                                "\(columns) columns, batch \(batch), activation row \(b): rows \(mismatches)")
                    }
                }
            }
        }
    }

    @Test("mat-vec equals the row kernel called row by row")
    func matVecIsRowKernel() throws {
        let rows = 20, columns = 1024
        let bytes = KernelTestData.randomWeights(.q4_K, rows: rows, columns: columns, seed: 9)
        let pool = try ThreadPool(threads: 2)
        try WeightMatrix.over(bytes, type: .q4_K, rows: rows, columns: columns) { w in
            let x = KernelTestData.randomActivations(count: columns, seed: 1)
            let q = try QuantizedActivations(x, for: w)
            let y = try MatMul.multiply(w, q, pool: pool)
            for r in 0..<rows {
                let single = try MatMul.dot(w, row: r, q, level: KernelLevel.best(for: .q4_K))
                #expect(y[r].bitPattern == single.bitPattern)
            }
        }
    }

    @Test("a persistent pool runs many jobs and gives the same answer each time")
    func poolReuse() throws {
        let pool = try ThreadPool(threads: 4)
        #expect(pool.threadCount == 4)
        let bytes = KernelTestData.randomWeights(.q8_0, rows: 64, columns: 256, seed: 2)
        try WeightMatrix.over(bytes, type: .q8_0, rows: 64, columns: 256) { w in
            let x = KernelTestData.randomActivations(count: 256, seed: 3)
            let first = try MatMul.matVec(w, x, pool: pool)
            for _ in 0..<200 {
                let again = try MatMul.matVec(w, x, pool: pool)
                #expect(again.map(\.bitPattern) == first.map(\.bitPattern))
            }
        }
        #expect(throws: KernelError.threadPoolUnavailable(threads: 0)) { try ThreadPool(threads: 0) }
    }

    @Test("activations in the wrong format or length are an error naming the tensor")
    func mismatchedActivations() throws {
        let bytes = KernelTestData.randomWeights(.q4_K, rows: 2, columns: 256, seed: 1)
        try WeightMatrix.over(bytes, type: .q4_K, rows: 2, columns: 256, name: "output.weight") { w in
            let wrong = try QuantizedActivations([Float](repeating: 1, count: 256), batch: 1, format: .q8_0,
                                                 tensor: "output.weight")
            #expect(throws: KernelError.self) { try MatMul.multiply(w, wrong) }
            do throws(KernelError) {
                _ = try MatMul.multiply(w, wrong)
            } catch {
                #expect(error.description.contains("output.weight"))
            }
        }
    }
}

@Suite("Thread pool")
struct ThreadPoolTests {
    @Test("jobs sent to one pool from several threads at once are serialised and all correct")
    func concurrentCallers() async throws {
        let pool = try ThreadPool(threads: 2)
        let rows = 40, columns = 512
        let bytes = KernelTestData.randomWeights(.q6_K, rows: rows, columns: columns, seed: 8)
        let inputs = (0..<6).map { KernelTestData.randomActivations(count: columns, seed: UInt64(200 + $0)) }
        var expected: [[UInt32]] = []
        try WeightMatrix.over(bytes, type: .q6_K, rows: rows, columns: columns) { w in
            expected = try inputs.map { try MatMul.matVec(w, $0, pool: nil).map(\.bitPattern) }
        }
        let results = try await withThrowingTaskGroup(of: (Int, [UInt32]).self) { group in
            for (index, x) in inputs.enumerated() {
                group.addTask {
                    var out: [UInt32] = []
                    for _ in 0..<20 {
                        try WeightMatrix.over(bytes, type: .q6_K, rows: rows, columns: columns) { w in
                            out = try MatMul.matVec(w, x, pool: pool).map(\.bitPattern)
                        }
                    }
                    return (index, out)
                }
            }
            var collected = [[UInt32]](repeating: [], count: inputs.count)
            for try await (index, out) in group { collected[index] = out }
            return collected
        }
        #expect(results == expected)
    }
}
