import Foundation
import GGUF
import Testing
@testable import Kernels

/// The repacked layout (`WeightRepacker`, `dot_avx512_x16.c`: Q4_K and Q6_K rows interleaved in groups of 16): its
/// kernel gives the scalar reference's bits for every row, at the extremes of weights and activations, for every
/// tile height, and a product with a repacked copy equals one without bit for bit, for every batch and thread count.
@Suite("Repacked weights (16-row groups)")
struct RepackedWeightsTests {
    static let types: [GGMLType] = [.q4_K, .q6_K]
    /// Whether this machine has the repacked kernels (AVX-512 VNNI or AVX2); the tests need them.
    static let available = WeightRepacker(pool: nil).hasKernel(for: .q4_K)
    /// The levels whose repacked kernels this machine runs (`dot_avx2_x16.c`, `dot_avx512_x16.c`).
    static let levels: [KernelLevel] = [KernelLevel.avx2, .avx512].filter {
        WeightRepacker(pool: nil, level: $0).hasKernel(for: .q4_K)
    }

    /// The layout itself, on every CPU (the packing is portable C; the other tests need the AVX2 or AVX-512 VNNI
    /// kernels): each quant of the repacked bytes read back where the layout puts it (`dot_avx512_x16.c`: chunk c,
    /// lane r, byte j holds value 8c + j in its low nibble and 8c + 4 + j in its high one; Q6_K's qh entry e, byte
    /// 4r + j, bits 2k, the high 2 bits of value 16e + 4k + j) equals that quant read from the ggml block as ggml lays
    /// it out.
    @Test("every quant lands where the 16-row layout puts it (any CPU)", arguments: types)
    func layout(type: GGMLType) throws {
        let rows = 32, columns = 2 * 256, blocks = columns / 256
        let bytes = KernelTestData.randomWeights(type, rows: rows, columns: columns, seed: 17)
        let blockBytes = type == .q4_K ? 144 : 210, groupBlockBytes = type == .q4_K ? 2432 : 3392
        let lowNibbles = type == .q4_K ? 384 : 320, highBits = 2368  // offsets of qs / ql, and of Q6_K's qh
        try WeightMatrix.over(bytes, type: type, rows: rows, columns: columns) { plain in
            let packed = WeightRepacker.layoutBytes(of: plain)
            #expect(packed.count == rows / 16 * blocks * groupBlockBytes)
            guard !packed.isEmpty else { return }
            var wrong = 0
            for row in 0..<rows {
                for i in 0..<blocks {
                    let block = Array(bytes[(row * blocks + i) * blockBytes..<(row * blocks + i + 1) * blockBytes])
                    let out = ((row / 16) * blocks + i) * groupBlockBytes, r = row % 16
                    for v in 0..<256 {
                        let c = v / 8, j = v % 4, high = v % 8 >= 4
                        let byte = packed[out + lowNibbles + 64 * c + 4 * r + j]
                        let low4 = Int(high ? byte >> 4 : byte & 0xF)
                        switch type {
                        case .q4_K:
                            // ggml: qs[32·(v / 64) + v % 32], the low nibble for v % 64 < 32, else the high one.
                            let q = block[16 + 32 * (v / 64) + v % 32]
                            if low4 != Int(v % 64 < 32 ? q & 0xF : q >> 4) { wrong += 1 }
                        default:
                            // ggml: half h = v / 128; quarters 0/1 the low nibbles of ql[64h + l] / ql[64h + 32 + l],
                            // 2/3 their high nibbles; the high 2 bits at bits 2·quarter of qh[32h + l].
                            let h = v / 128, quarter = (v % 128) / 32, l = v % 32
                            let ql = block[64 * h + 32 * (quarter % 2) + l]
                            let qh = block[128 + 32 * h + l]
                            if low4 != Int(quarter < 2 ? ql & 0xF : ql >> 4) { wrong += 1 }
                            let e = v / 16, k = (v % 16) / 4, jj = v % 4
                            let bits = packed[out + highBits + 64 * e + 4 * r + jj] >> (2 * k) & 3
                            if bits != (qh >> (2 * quarter)) & 3 { wrong += 1 }
                        }
                    }
                }
            }
            #expect(wrong == 0, "\(type.name): \(wrong) quants out of place")
        }
    }

    @Test("each group's 16 rows × 1…8 activation rows equal the scalar reference at the extremes",
          .enabled(if: available), arguments: types)
    func extremes(type: GGMLType) throws {
        // 32 rows (two groups), 3 blocks; weight sets with quants at their ends and Q6_K's −128 scales.
        let rows = 32, columns = 3 * 256
        let repacker = WeightRepacker(pool: nil)
        for (weightName, bytes) in KernelExtremesTests.weightSets(type, rows: rows, columns: columns) {
            try WeightMatrix.over(bytes, type: type, rows: rows, columns: columns) { plain in
                let w = try repacker.repack(plain)
                #expect(w.repacked != nil, "\(type.name): no repacked copy")
                let x: [Float] = (0..<8 * columns).map { (i: Int) -> Float in Float((i * 7919) % 255) / 127 - 1 }
                let q = try QuantizedActivations(x, batch: 8, for: w)
                for (patternName, value) in KernelExtremesTests.patterns(for: type) {
                    KernelExtremesTests.setQuants(q, value)
                    let reference = try (0..<8).map { b in
                        try (0..<rows).map { try MatMul.dot(w, row: $0, q, batchRow: b, level: .scalar).bitPattern }
                    }
                    for level in Self.levels {
                        for group in 0..<rows / 16 {
                            for count in 1...8 {
                                let start = 8 - count  // tiles that start at a later activation row, too
                                let out = try MatMul.dotRepacked(w, group: group, q, batchRows: start..<8, level: level)
                                for k in 0..<count {
                                    #expect(Array(out[(16 * k)..<(16 * k + 16)]).map(\.bitPattern)
                                                == Array(reference[start + k][(16 * group)..<(16 * group + 16)]),
                                            "\(type.name) at \(level), weights \(weightName), activations \(patternName), group \(group), tile of \(count), row \(k)")
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Whether this machine runs the AMX kernels (`dot_amx_x16.c`); the AMX tests need them.
    static let matrixUnit = available && WeightRepacker.hasMatrixUnitKernels

    @Test("AMX: each group's 16 rows × 1…16 activation rows equal the scalar reference at the extremes",
          .enabled(if: matrixUnit), arguments: types)
    func matrixUnitExtremes(type: GGMLType) throws {
        // 32 rows (two groups), 3 blocks; the extreme weight sets, 16 activation rows with the extreme patterns in
        // every other row and random quants between (a tile's rows are read with the activations' stride).
        let rows = 32, columns = 3 * 256, batch = 16
        let repacker = WeightRepacker(pool: nil)
        for (weightName, bytes) in KernelExtremesTests.weightSets(type, rows: rows, columns: columns) {
            try WeightMatrix.over(bytes, type: type, rows: rows, columns: columns) { plain in
                let w = try repacker.repack(plain)
                let x = (0..<batch * columns).map { Float(($0 * 7919) % 255) / 127 - 1 }
                let q = try QuantizedActivations(x, batch: batch, for: w)
                for (patternName, value) in KernelExtremesTests.patterns(for: type) {
                    KernelExtremesTests.setQuants(q) { row, index in
                        row % 2 == 0 ? value(row, index) : Int8(truncatingIfNeeded: (row * 31 + index * 17) % 255 - 127)
                    }
                    let reference = try (0..<batch).map { b in
                        try (0..<rows).map { try MatMul.dot(w, row: $0, q, batchRow: b, level: .scalar).bitPattern }
                    }
                    for group in 0..<rows / 16 {
                        for count in 1...batch {
                            let start = (batch - count) / 2  // tiles that start at a later activation row, too
                            let out = try MatMul.dotRepacked(w, group: group, q, batchRows: start..<start + count,
                                                             level: .avx512, matrixUnit: true)
                            for k in 0..<count {
                                #expect(Array(out[(16 * k)..<(16 * k + 16)]).map(\.bitPattern)
                                            == Array(reference[start + k][(16 * group)..<(16 * group + 16)]),
                                        "\(type.name) weights \(weightName), activations \(patternName), group \(group), AMX tile of \(count), row \(k)")
                            }
                        }
                    }
                }
            }
        }
    }

    @Test("AMX: the kernels refuse 17 activation rows and the VNNI ones 9", .enabled(if: matrixUnit))
    func matrixUnitLimits() throws {
        let rows = 16, columns = 256
        let bytes = KernelTestData.randomWeights(.q4_K, rows: rows, columns: columns, seed: 3)
        let repacker = WeightRepacker(pool: nil)  // owns the copy's memory
        try WeightMatrix.over(bytes, type: .q4_K, rows: rows, columns: columns) { plain in
            let w = try repacker.repack(plain)
            let q = try QuantizedActivations(KernelTestData.randomActivations(count: 17 * columns, seed: 4), batch: 17,
                                             for: w)
            #expect(throws: KernelError.self) {
                try MatMul.dotRepacked(w, group: 0, q, batchRows: 0..<17, level: .avx512, matrixUnit: true)
            }
            #expect(throws: KernelError.self) { try MatMul.dotRepacked(w, group: 0, q, batchRows: 0..<9, level: .avx512) }
            #expect(try MatMul.dotRepacked(w, group: 0, q, batchRows: 1..<17, level: .avx512, matrixUnit: true).count
                        == 256)
        }
    }

    @Test("a product with a repacked copy equals the ggml rows' bit for bit: batches 1…37 (AMX tiles of 16 with SPARROW_AMX=on), 1 to 3 threads, rows not on a group boundary",
          .enabled(if: available), arguments: types)
    func products(type: GGMLType) throws {
        let rows = 80, columns = 4 * 256
        let bytes = KernelTestData.randomWeights(type, rows: rows, columns: columns, seed: 91)
        let pools = try [nil, ThreadPool(threads: 2), ThreadPool(threads: 3)]
        try WeightMatrix.over(bytes, type: type, rows: rows, columns: columns) { plain in
            let repacker = WeightRepacker(pool: pools[1])
            let repacked = try repacker.repack(plain)
            #expect(repacker.bytes == WeightRepacker.repackedBytes(plain) && repacker.matrices == 1)
            for batch in [1, 2, 3, 4, 7, 8, 9, 10, 11, 16, 20, 37] {
                let x = (0..<batch).flatMap { KernelTestData.randomActivations(count: columns, seed: UInt64(500 + $0)) }
                let q = try QuantizedActivations(x, batch: batch, for: plain)
                let reference = try MatMul.multiply(plain, q, level: .scalar)
                for pool in pools {
                    let fast = try MatMul.multiply(repacked, q, pool: pool)
                    #expect(fast.map(\.bitPattern) == reference.map(\.bitPattern),
                            "\(type.name) batch \(batch), \(pool?.threadCount ?? 1) threads")
                }
                for level in Self.levels {  // the AVX2 kernels too, on a machine whose default is AVX-512
                    let fast = try MatMul.multiply(repacked, q, level: level, pool: pools[1])
                    #expect(fast.map(\.bitPattern) == reference.map(\.bitPattern), "\(type.name) batch \(batch) at \(level)")
                }
                // In one pool job behind a product of 40 rows (no repacked form): the repacked matrix still starts on
                // a 16-row group of the job's rows, so every range it gets starts on one of its groups and it reads
                // only its copy. Shown by pairing the copy with garbage ggml rows, which a range starting inside a
                // group (global row 40, as before the rows were padded) would read for its first rows. (Q6_K products
                // of 1-3 rows read the ggml rows by design, Q4_K ones the copy: `ck_x16_takes_batch`.)
                let odd = KernelTestData.randomWeights(type, rows: 40, columns: columns, seed: 92)
                let garbage = KernelTestData.randomWeights(type, rows: rows, columns: columns, seed: 93)
                try WeightMatrix.over(odd, type: type, rows: 40, columns: columns) { small in
                    let skipped = try repacker.repack(small)
                    #expect(skipped.repacked == nil, "40 rows: not a whole number of groups")
                    let both = try MatMul.multiply([(skipped, q), (repacked, q)], pool: pools[1])
                    #expect(try both[0].map(\.bitPattern) == MatMul.multiply(small, q, level: .scalar).map(\.bitPattern),
                            "\(type.name) batch \(batch): the 40-row product")
                    #expect(both[1].map(\.bitPattern) == reference.map(\.bitPattern), "\(type.name) batch \(batch) after 40 rows")
                    guard WeightRepacker.copyServesProduct(of: type, batch: batch) else { return }
                    try WeightMatrix.over(garbage, type: type, rows: rows, columns: columns) { poisoned in
                        var copyOnly = poisoned
                        copyOnly.repacked = repacked.repacked
                        for pool in pools {
                            let behind = try MatMul.multiply([(skipped, q), (copyOnly, q)], pool: pool)
                            let differing = zip(behind[1], reference).filter { $0.bitPattern != $1.bitPattern }.count
                            #expect(differing == 0,
                                    "\(type.name) batch \(batch), \(pool?.threadCount ?? 1) threads: outputs read from the ggml rows")
                        }
                    }
                }
            }
        }
    }

    /// Small copies (one group, one block: 2,432 bytes) so that the threads' allocations collide often: with the
    /// lock removed, overlapping copies failed 1 run in 3 here; the thread sanitizer (`swift test
    /// --sanitize=thread`) reports the race every time.
    @Test("one repacker shared by threads: every copy its own memory, every product the reference's, the counts exact",
          .enabled(if: available))
    func sharedAcrossThreads() throws {
        let rows = 16, columns = 256, threads = 8, perThread = 200
        let bytes = KernelTestData.randomWeights(.q4_K, rows: rows, columns: columns, seed: 31)
        let x = KernelTestData.randomActivations(count: columns, seed: 32)
        let repacker = WeightRepacker(pool: nil)
        try WeightMatrix.over(bytes, type: .q4_K, rows: rows, columns: columns) { plain in
            let q = try QuantizedActivations(x, batch: 1, for: plain)
            let reference = try MatMul.multiply(plain, q, level: .scalar).map(\.bitPattern)
            let copies = Collected()
            DispatchQueue.concurrentPerform(iterations: threads) { _ in
                for _ in 0..<perThread {
                    if let copy = try? repacker.repack(plain) { copies.append(copy) }
                }
            }
            let all = copies.all
            #expect(all.count == threads * perThread)
            let each = WeightRepacker.repackedBytes(plain)
            #expect(repacker.matrices == threads * perThread && repacker.bytes == threads * perThread * each)
            let starts = all.compactMap { $0.repacked.map { Int(bitPattern: $0) } }.sorted()
            #expect(starts.count == all.count)
            #expect(zip(starts, starts.dropFirst()).allSatisfy { $1 - $0 >= each }, "copies overlap")
            for copy in all {
                #expect(try MatMul.multiply(copy, q).map(\.bitPattern) == reference)
            }
        }
    }

    @Test("types and shapes without a repacked form are left as they are", .enabled(if: available))
    func skipped() throws {
        let repacker = WeightRepacker(pool: nil)
        for (type, rows, columns) in [(GGMLType.q8_0, 32, 256), (.q4_K, 24, 256), (.q5_K, 32, 256)] {
            let bytes = KernelTestData.randomWeights(type, rows: rows, columns: columns, seed: 5)
            try WeightMatrix.over(bytes, type: type, rows: rows, columns: columns) { w in
                #expect(WeightRepacker.repackedBytes(w) == 0)
                let result = try repacker.repack(w)
                #expect(result.repacked == nil, "\(type.name) \(rows) rows")
            }
        }
        #expect(repacker.skipped == 3 && repacker.matrices == 0 && repacker.bytes == 0)
    }

    @Test("experts: one copy per slab, each equal to its own matrix's products", .enabled(if: available))
    func experts() throws {
        let rows = 32, columns = 512, count = 3
        let bytes = KernelTestData.randomWeights(.q4_K, rows: rows * count, columns: columns, seed: 13)
        let slab = bytes.count / count
        try bytes.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            let matrices = try (0..<count).map { e in
                try WeightMatrix(name: "exps[\(e)]", type: .q4_K, rows: rows, columns: columns, base: base + e * slab,
                                 byteCount: slab)
            }
            let repacker = WeightRepacker(pool: nil)
            let repacked = try repacker.repack(experts: matrices)
            #expect(repacker.matrices == count)
            let x = KernelTestData.randomActivations(count: 2 * columns, seed: 14)
            let q = try QuantizedActivations(x, batch: 2, for: matrices[0])
            for e in 0..<count {
                let fast = try MatMul.multiply(repacked[e], q), reference = try MatMul.multiply(matrices[e], q, level: .scalar)
                #expect(fast.map(\.bitPattern) == reference.map(\.bitPattern), "expert \(e)")
            }
        }
    }
}

/// Matrices gathered from several threads.
private final class Collected: @unchecked Sendable {
    private let lock = NSLock()
    private var matrices: [WeightMatrix] = []  // only under `lock`

    func append(_ matrix: WeightMatrix) {
        lock.lock()
        defer { lock.unlock() }
        matrices.append(matrix)
    }

    var all: [WeightMatrix] {
        lock.lock()
        defer { lock.unlock() }
        return matrices
    }
}
