import GGUF
import Testing
@testable import Kernels

/// Weight blocks and activation rows at the ends of their ranges, and the multi-row kernels for every tile height:
/// every SIMD level must give the scalar reference's bits there too (saturation or a lost sign would show here).
@Suite("SIMD kernels at the extremes and in tiles")
struct KernelExtremesTests {
    static let types = DotProductTests.simdTypes.filter { $0.blockSize > 1 }
    static let levels = DotProductTests.simdLevels

    /// `rows` rows of `type` with every byte `fill` (quants all at their largest, smallest or sign-bit value), then
    /// the f16 scales set to `scale` so the result stays finite. For Q6_K, `q6Scales` overrides its int8 scales.
    static func filled(_ type: GGMLType, rows: Int, columns: Int, fill: UInt8, q6Scales: UInt8? = nil,
                       scale: Float16 = 0.5) -> [UInt8] {
        let blocks = rows * columns / type.blockSize
        var bytes = [UInt8](repeating: fill, count: blocks * type.bytesPerBlock)
        for block in 0..<blocks {
            let base = block * type.bytesPerBlock
            for offset in KernelTestData.scaleOffsets(type) {
                bytes[base + offset] = UInt8(truncatingIfNeeded: scale.bitPattern)
                bytes[base + offset + 1] = UInt8(truncatingIfNeeded: scale.bitPattern >> 8)
            }
            if type == .q6_K, let q6Scales { for i in 192..<208 { bytes[base + i] = q6Scales } }
        }
        return bytes
    }

    /// The weight sets: random, every byte 0x00, 0xFF, 0x80 and 0x7F, Q6_K's largest quants (63) under its most
    /// negative scales (−128), and Q4_K's largest quants with every scale 63 and the mins alternating 63 and 0 by
    /// sub-block (so a kernel that pairs sub-blocks' mins must keep each with its own activations).
    static func weightSets(_ type: GGMLType, rows: Int, columns: Int) -> [(name: String, bytes: [UInt8])] {
        var sets = [("random", KernelTestData.randomWeights(type, rows: rows, columns: columns, seed: 21))]
        for fill: UInt8 in [0x00, 0xFF, 0x80, 0x7F] {
            sets.append(("all 0x\(String(fill, radix: 16))", filled(type, rows: rows, columns: columns, fill: fill)))
        }
        if type == .q6_K {
            sets.append(("q 63, scales -128", filled(type, rows: rows, columns: columns, fill: 0xFF, q6Scales: 0x80)))
        }
        if type == .q4_K {
            // scales[12] at byte 4 (ggml's get_scale_min_k4): sub-block j < 4 takes its scale from the low 6 bits of
            // byte j and its min from byte j + 4; j ≥ 4 the low (scale) and high (min) nibbles of byte j + 4, with
            // the top 2 bits of bytes j − 4 and j.
            let packed: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0xFF, 0x00, 0xFF, 0x0F, 0xFF, 0x0F]
            var bytes = filled(type, rows: rows, columns: columns, fill: 0xFF)
            for block in 0..<(rows * columns / type.blockSize) {
                for (i, byte) in packed.enumerated() { bytes[block * type.bytesPerBlock + 4 + i] = byte }
            }
            sets.append(("q 15, scales 63, mins 63 / 0", bytes))
        }
        return sets
    }

    /// Overwrites every quant of every row of `q` with `value(row, index)` and keeps the block's derived fields (Q8_K
    /// 16-value sums, Q8_1 s = d·Σq) consistent, as the quantizer would have written them.
    static func setQuants(_ q: QuantizedActivations, _ value: (Int, Int) -> Int8) {
        let (blockBytes, quantOffset, perBlock): (Int, Int, Int) = switch q.format {
        case .q8_0: (34, 2, 32)
        case .q8_1: (40, 8, 32)
        case .q8_K: (292, 4, 256)
        case .f32: (0, 0, 0)
        }
        guard perBlock > 0 else { return }
        for row in 0..<q.batch {
            let rowBase = q.storage.bytes + row * q.rowBytes
            for block in 0..<q.columns / perBlock {
                let b = rowBase + block * blockBytes
                var total = 0
                for j in 0..<perBlock {
                    let v = value(row, block * perBlock + j)
                    b.storeBytes(of: v, toByteOffset: quantOffset + j, as: Int8.self)
                    total += Int(v)
                }
                if q.format == .q8_K {
                    for g in 0..<16 {
                        let sum = (0..<16).reduce(0) { $0 + Int(b.load(fromByteOffset: 4 + 16 * g + $1, as: Int8.self)) }
                        b.storeBytes(of: Int16(sum).littleEndian, toByteOffset: 260 + 2 * g, as: Int16.self)
                    }
                } else if q.format == .q8_1 {
                    let d = Float(bitPattern: b.loadUnaligned(as: UInt32.self))
                    b.storeBytes(of: (d * Float(total)).bitPattern, toByteOffset: 4, as: UInt32.self)
                }
            }
        }
    }

    /// Types whose SIMD kernels multiply unsigned quants by the activation bytes directly (no sign trick), so they
    /// are exact for an activation byte of −128 too. Sparrow's quantizers never write −128 (Q8_0 and Q8_1: d =
    /// amax/127; Q8_K: −127/max), and the sign-trick kernels (Q8_0, Q2_K, Q3_K, IQ4_NL, IQ4_XS, ...) rely on that.
    static let exactAtMinus128: Set<GGMLType> = [.q4_K, .q5_K, .q6_K, .q4_1]

    /// Activation patterns: ±127, alternating, random bytes over [−127, 127], and the same with −128 where the
    /// kernels allow it.
    static func patterns(for type: GGMLType) -> [(name: String, value: (Int, Int) -> Int8)] {
        let lows: [Int8] = exactAtMinus128.contains(type) ? [-127, -128] : [-127]
        var patterns: [(name: String, value: (Int, Int) -> Int8)] = [("all 127", { _, _ in 127 })]
        for lowest in lows {
            patterns.append(("all \(lowest)", { _, _ in lowest }))
            patterns.append(("alternating 127 / \(lowest)", { _, i in i % 2 == 0 ? 127 : lowest }))
            // Sums that differ from one 16- and one 32-value sub-block to the next.
            patterns.append(("127 / \(lowest) by 16 values", { _, i in (i / 16) % 2 == 0 ? 127 : lowest }))
            patterns.append(("127 / \(lowest) by 32 values", { _, i in (i / 32) % 2 == 0 ? 127 : lowest }))
            patterns.append(("random bytes down to \(lowest)", { row, i in
                var rng = SplitMix64(seed: UInt64(1000 * row + i))
                return max(lowest, Int8(truncatingIfNeeded: rng.next()))
            }))
        }
        return patterns
    }

    @Test("dot and every tile height (1…8 rows) equal the scalar reference at the extremes",
          .enabled(if: !levels.isEmpty), arguments: types)
    func extremes(type: GGMLType) throws {
        let rows = 2
        // Block counts that leave a tail after block pairs and after 16-block steps (32-value types), or 3 blocks.
        let columns = type.blockSize == 32 ? 19 * 32 : 3 * 256
        for (weightName, bytes) in Self.weightSets(type, rows: rows, columns: columns) {
            try WeightMatrix.over(bytes, type: type, rows: rows, columns: columns) { w in
                let x = (0..<8 * columns).map { Float(($0 * 7919) % 255) / 127 - 1 }
                let q = try QuantizedActivations(x, batch: 8, for: w)
                for (patternName, value) in Self.patterns(for: type) {
                    Self.setQuants(q, value)
                    for row in 0..<rows {
                        let reference = try (0..<8).map { try MatMul.dot(w, row: row, q, batchRow: $0, level: .scalar) }
                        for level in Self.levels {
                            let label = "\(type.name) \(level) weights \(weightName), activations \(patternName)"
                            let single = try (0..<8).map { try MatMul.dot(w, row: row, q, batchRow: $0, level: level) }
                            #expect(single.map(\.bitPattern) == reference.map(\.bitPattern), "\(label): dot")
                            for count in 1...8 {
                                let start = 8 - count  // tiles that start at a later row, too
                                let tile = try MatMul.dotTile(w, row: row, q, batchRows: start..<8, level: level)
                                #expect(tile.map(\.bitPattern) == reference[start...].map(\.bitPattern),
                                        "\(label): tile of \(count)")
                                if level.hasTileKernel(for: type) {
                                    let interleaved = try MatMul.dotTile(w, row: row, q, batchRows: start..<8,
                                                                         level: level, kernel: .interleaved)
                                    #expect(interleaved.map(\.bitPattern) == reference[start...].map(\.bitPattern),
                                            "\(label): interleaved tile of \(count)")
                                    // This row as the first and as the second of a pair (the other row beside it).
                                    let other = (row + 1) % rows
                                    let (first, _) = try MatMul.dotTilePair(w, rows: (row, other), q,
                                                                            batchRows: start..<8, level: level)
                                    let (_, second) = try MatMul.dotTilePair(w, rows: (other, row), q,
                                                                             batchRows: start..<8, level: level)
                                    #expect(first.map(\.bitPattern) == reference[start...].map(\.bitPattern),
                                            "\(label): first row of a pair, tile of \(count)")
                                    #expect(second.map(\.bitPattern) == reference[start...].map(\.bitPattern),
                                            "\(label): second row of a pair, tile of \(count)")
                                }
                                if level.hasFewRowsKernel(for: type), count <= 4 {
                                    let few = try MatMul.dotTile(w, row: row, q, batchRows: start..<8, level: level,
                                                                 kernel: .fewRows)
                                    #expect(few.map(\.bitPattern) == reference[start...].map(\.bitPattern),
                                            "\(label): few rows, \(count)")
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    @Test("every tile height (1…8 rows) equals the scalar reference on random weights and activations",
          .enabled(if: !levels.isEmpty), arguments: types)
    func tiles(type: GGMLType) throws {
        let rows = 3, columns = type.blockSize == 32 ? 40 * 32 : 4 * 256
        let bytes = KernelTestData.randomWeights(type, rows: rows, columns: columns, seed: 77)
        try WeightMatrix.over(bytes, type: type, rows: rows, columns: columns) { w in
            let x = (0..<8).flatMap { KernelTestData.randomActivations(count: columns, seed: UInt64(300 + $0)) }
            let q = try QuantizedActivations(x, batch: 8, for: w)
            for row in 0..<rows {
                let reference = try (0..<8).map { try MatMul.dot(w, row: row, q, batchRow: $0, level: .scalar) }
                for level in Self.levels {
                    for count in 1...8 {
                        let tile = try MatMul.dotTile(w, row: row, q, batchRows: 0..<count, level: level)
                        #expect(tile.map(\.bitPattern) == reference[0..<count].map(\.bitPattern),
                                "\(type.name) \(level) row \(row), tile of \(count)")
                        if level.hasTileKernel(for: type) {
                            let interleaved = try MatMul.dotTile(w, row: row, q, batchRows: 0..<count, level: level,
                                                                 kernel: .interleaved)
                            #expect(interleaved.map(\.bitPattern) == reference[0..<count].map(\.bitPattern),
                                    "\(type.name) \(level) row \(row), interleaved tile of \(count)")
                            let other = (row + 1) % rows
                            let otherReference = try (0..<count).map {
                                try MatMul.dot(w, row: other, q, batchRow: $0, level: .scalar)
                            }
                            let (first, second) = try MatMul.dotTilePair(w, rows: (row, other), q,
                                                                         batchRows: 0..<count, level: level)
                            #expect(first.map(\.bitPattern) == reference[0..<count].map(\.bitPattern),
                                    "\(type.name) \(level) row \(row), first of a pair, tile of \(count)")
                            #expect(second.map(\.bitPattern) == otherReference.map(\.bitPattern),
                                    "\(type.name) \(level) row \(other), second of a pair, tile of \(count)")
                        }
                        if level.hasFewRowsKernel(for: type), count <= 4 {
                            let few = try MatMul.dotTile(w, row: row, q, batchRows: 0..<count, level: level,
                                                         kernel: .fewRows)
                            #expect(few.map(\.bitPattern) == reference[0..<count].map(\.bitPattern),
                                    "\(type.name) \(level) row \(row), few rows, \(count)")
                        }
                    }
                }
            }
        }
    }

    /// Weights whose blocks all hold the same random quants, block b's f16 scales set to `scales[b]` (0 past the
    /// list).
    static func scaledBlocks(_ type: GGMLType, rows: Int, columns: Int, scales: [Float16]) -> [UInt8] {
        let one = KernelTestData.randomWeights(type, rows: 1, columns: type.blockSize, seed: 404)
        let perRow = columns / type.blockSize
        var bytes: [UInt8] = []
        for block in 0..<rows * perRow {
            var b = one
            let scale = scales.indices.contains(block % perRow) ? scales[block % perRow] : 0
            for offset in KernelTestData.scaleOffsets(type) {
                b[offset] = UInt8(truncatingIfNeeded: scale.bitPattern)
                b[offset + 1] = UInt8(truncatingIfNeeded: scale.bitPattern >> 8)
            }
            bytes += b
        }
        return bytes
    }

    @Test("block terms are added to the row sum in block order (a term that only survives that order)",
          .enabled(if: !levels.isEmpty), arguments: types)
    func blockOrder(type: GGMLType) throws {
        // Block terms t0 = +B, t2 = −B (the same weights against negated activations) and a tiny t3 < ulp(B)/2:
        // in block order ((t0 + t1) + t2) + t3 = t3; adding t3 (or t1 = 0 and t3 swapped with t2) any earlier
        // absorbs it and gives 0. Q8_0 activations keep their scale in f16, so its spread is 2^21 to 2^−7 there
        // (and 2^15 to 2^−14 in the weight scales): |t3/t0| ≈ 2^−57 either way.
        let rows = 1, blocks = 6, columns = 6 * type.blockSize
        let f16Activations = try ActivationFormat(pairingWith: type, tensor: "order") == .q8_0
        let (large, small): (Float, Float) = f16Activations ? (0x1p21, 0x1p-7) : (0x1p40, 0x1p-40)
        let bytes = Self.scaledBlocks(type, rows: rows, columns: columns, scales: [0x1p15, 0, 0x1p15, 0x1p-14])
        var rng = SplitMix64(seed: 9)
        let pattern = (0..<type.blockSize).map { i in i == 0 ? Float(1) : Float(rng.uniform() * 2 - 1) }
        let factors: [Float] = [large, 0, -large, small] + [Float](repeating: 0, count: blocks - 4)
        let row = factors.flatMap { f in pattern.map { $0 * f } }
        try WeightMatrix.over(bytes, type: type, rows: rows, columns: columns) { w in
            let q = try QuantizedActivations((0..<8).flatMap { _ in row }, batch: 8, for: w)
            let reference = try MatMul.dot(w, row: 0, q, level: .scalar)
            #expect(reference != 0, "\(type.name): the data must make the order visible")
            for level in Self.levels {
                let single = try MatMul.dot(w, row: 0, q, level: level)
                #expect(single.bitPattern == reference.bitPattern, "\(type.name) \(level): \(single) vs \(reference)")
                for count in [1, 2, 5, 8] {
                    let tile = try MatMul.dotTile(w, row: 0, q, batchRows: 0..<count, level: level)
                    #expect(tile.allSatisfy { $0.bitPattern == reference.bitPattern },
                            "\(type.name) \(level) tile of \(count): \(tile) vs \(reference)")
                }
            }
        }
    }
}
