import GGUF
import Testing
@testable import Kernels

@Suite("Integer dot products")
struct DotProductTests {
    static let simdTypes: [GGMLType] = [
        .q4_K, .q5_K, .q6_K, .q8_0, .q4_1, .q4_0, .q5_0, .q5_1, .iq4_NL, .iq4_XS, .q2_K, .q3_K, .f32, .f16, .bf16,
    ]
    static let hasAVX2 = KernelLevel.avx2.isAvailable(for: .q4_K)

    /// Weights: the gguf-py fixture blocks for quantized types (random bytes, random finite scales), normal floats
    /// for F32/F16/BF16 (the fixture's random bit patterns include values near the f32 limit).
    static func weights(_ type: GGMLType) throws -> (bytes: [UInt8], rows: Int, columns: Int) {
        switch type {
        case .f32, .f16, .bf16:
            (KernelTestData.randomWeights(type, rows: 4, columns: 1024, seed: 11), 4, 1024)
        default:
            (try KernelTestData.bytes("dequant/\(type.name).blocks"), 4, 1024)
        }
    }

    @Test("the scalar reference equals f64 dequant(W)·dequant(Q8(x)) within 1e-6·Σ|wᵢxᵢ|",
          arguments: GGMLTypeSupport.supported)
    func referenceMatchesF64(type: GGMLType) throws {
        let (bytes, rows, columns) = try Self.weights(type)
        try WeightMatrix.over(bytes, type: type, rows: rows, columns: columns) { w in
            for seed in 1...3 {
                let x = KernelTestData.randomActivations(count: columns, seed: UInt64(seed))
                let q = try QuantizedActivations(x, for: w)
                let xd = q.dequantized(row: 0)
                for row in 0..<rows {
                    let wd = try Dequantizer.dequantize(w, row: row)
                    var exact = 0.0, magnitude = 0.0
                    for i in 0..<columns {
                        exact += Double(wd[i]) * Double(xd[i])
                        magnitude += abs(Double(wd[i]) * Double(xd[i]))
                    }
                    let got = try MatMul.dot(w, row: row, q, level: .scalar)
                    #expect(magnitude > 0)
                    #expect(abs(Double(got) - exact) <= 1e-6 * magnitude,
                            "\(type.name) row \(row): \(got) vs \(exact) (Σ|wx| = \(magnitude))")
                }
            }
        }
    }

    /// The SIMD levels this CPU runs (AVX2; AVX-512 on CPUs and OSes that allow it).
    static let simdLevels = KernelLevel.allCases.filter { $0 != .scalar && $0.isAvailable(for: .q4_K) }

    @Test("every SIMD level (AVX2, AVX-512) equals the scalar reference bit for bit", .enabled(if: hasAVX2),
          arguments: simdTypes)
    func simdMatchesReference(type: GGMLType) throws {
        #expect(Self.simdLevels.contains(.avx2))
        let (bytes, rows, columns) = try Self.weights(type)
        let random = KernelTestData.randomWeights(type, rows: 8, columns: 2048, seed: 5)
        // A row length whose block count is not a multiple of 4 (kernels that take 4 blocks per step) or, for float
        // rows, not a multiple of 16 (a tail after the 16 lanes).
        let oddColumns = switch type.blockSize {
        case 1: 869
        case 32: 27 * 32
        default: 3 * 256
        }
        let odd = KernelTestData.randomWeights(type, rows: 3, columns: oddColumns, seed: 6)
        for level in Self.simdLevels {
            #expect(level.isAvailable(for: type))
            for (data, r, c) in [(bytes, rows, columns), (random, 8, 2048), (odd, 3, oddColumns)] {
                try WeightMatrix.over(data, type: type, rows: r, columns: c) { w in
                    for seed in 1...4 {
                        var x = KernelTestData.randomActivations(count: c, seed: UInt64(100 + seed))
                        if seed == 4 { for i in 0..<min(256, c) { x[i] = 0 } }  // an all-zero activation block
                        let q = try QuantizedActivations(x, for: w)
                        for row in 0..<r {
                            let reference = try MatMul.dot(w, row: row, q, level: .scalar)
                            let simd = try MatMul.dot(w, row: row, q, level: level)
                            #expect(simd.bitPattern == reference.bitPattern,
                                    "\(type.name) \(level) row \(row): \(simd) vs \(reference)")
                        }
                    }
                }
            }
        }
    }

    @Test("agrees with llama.cpp's ggml_vec_dot on the same weights and activations",
          arguments: GGMLTypeSupport.supported.filter { $0.blockSize > 1 })
    func agreesWithLlama(type: GGMLType) throws {
        let (bytes, rows, columns) = try Self.weights(type)
        let x = try KernelTestData.floats("dot/activations.f32")
        let expected = try KernelTestData.floats("dot/\(type.name).f32")  // batch × rows, from llama.cpp
        let batch = x.count / columns
        #expect(expected.count == batch * rows)
        try WeightMatrix.over(bytes, type: type, rows: rows, columns: columns) { w in
            let q = try QuantizedActivations(x, batch: batch, for: w)
            let y = try MatMul.multiply(w, q)
            for b in 0..<batch {
                let xd = q.dequantized(row: b)
                for r in 0..<rows {
                    let wd = try Dequantizer.dequantize(w, row: r)
                    let magnitude = zip(wd, xd).reduce(0.0) { $0 + abs(Double($1.0) * Double($1.1)) }
                    // llama.cpp sums in f32 with FMA (measured ≤ 1.3e-7 of Σ|wx| here), and for Q4_1/Q5_1 it rounds
                    // the activation block sum s to f16, so its bias term m·s is off by up to 2^-11 of |m·s|
                    // (measured ≤ 3.6e-5 of Σ|wx|).
                    let tolerance = type == .q4_1 || type == .q5_1 ? 1e-4 : 1e-6
                    let got = Double(y[b * rows + r]), theirs = Double(expected[b * rows + r])
                    #expect(abs(got - theirs) <= tolerance * magnitude,
                            "\(type.name) row \(r) batch \(b): \(got) vs llama.cpp \(theirs) (Σ|wx| \(magnitude))")
                }
            }
        }
    }

    @Test("float rows fold their 16 lanes in the documented order at every level")
    func floatFoldOrder() throws {
        // ±2^60 in lanes 0 and 8 cancel only if lanes j and j+8 are added first (ck_fold16); any other order
        // absorbs some of the ones into 2^61 and loses them.
        var w = [Float](repeating: 1, count: 32)
        for i in [0, 16] { w[i] = 0x1p60 }
        for i in [8, 24] { w[i] = -0x1p60 }
        let ones = Float(w.filter { $0 == 1 }.count)
        let bytes = w.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) }
        try WeightMatrix.over(bytes, type: .f32, rows: 1, columns: 32) { matrix in
            let x = try QuantizedActivations([Float](repeating: 1, count: 32), for: matrix)
            for level in KernelLevel.allCases where level.isAvailable(for: .f32) {
                #expect(try MatMul.dot(matrix, row: 0, x, level: level) == ones, "\(level)")
            }
        }
    }

    @Test("the F32 multi-row kernel gives each of 1…8 rows the scalar reference's bits (lane order, tail, ±2^60)",
          .enabled(if: KernelLevel.avx512.hasOwnKernel(for: .f32)))
    func floatMultiRow() throws {
        for columns in [2048, 869, 32] {
            let x = (0..<8).flatMap { row in
                // Row 7 (in every tile below) all ones: against weight row 2 only the documented fold keeps the ones.
                row == 7 ? [Float](repeating: 1, count: columns)
                    : KernelTestData.randomActivations(count: columns, seed: UInt64(40 + row))
            }
            var bytes = KernelTestData.randomWeights(.f32, rows: 3, columns: columns, seed: 9)
            // Row 2: the fold-order pattern (±2^60 in lanes 0 and 8 of each 16-value step, ones elsewhere).
            let pattern = (0..<columns).map { i -> Float in i % 16 == 0 ? 0x1p60 : i % 16 == 8 ? -0x1p60 : 1 }
            bytes.replaceSubrange((2 * 4 * columns)..<(3 * 4 * columns),
                                  with: pattern.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) })
            try WeightMatrix.over(bytes, type: .f32, rows: 3, columns: columns) { w in
                let q = try QuantizedActivations(x, batch: 8, for: w)
                for row in 0..<3 {
                    let reference = try (0..<8).map { try MatMul.dot(w, row: row, q, batchRow: $0, level: .scalar) }
                    for count in 1...8 {
                        let start = 8 - count
                        let tile = try MatMul.dotTile(w, row: row, q, batchRows: start..<8, level: .avx512)
                        #expect(tile.map(\.bitPattern) == reference[start...].map(\.bitPattern),
                                "\(columns) columns, row \(row), \(count) rows")
                    }
                }
            }
        }
    }

    // Every supported type has an AVX2 kernel, so this path exists only on CPUs without AVX2, FMA or F16C.
    @Test("on a CPU without AVX2, asking for the AVX2 level is an error naming the tensor", .enabled(if: !hasAVX2))
    func missingLevel() throws {
        let bytes = KernelTestData.randomWeights(.q2_K, rows: 1, columns: 256, seed: 1)
        try WeightMatrix.over(bytes, type: .q2_K, rows: 1, columns: 256, name: "blk.3.attn_q.weight") { w in
            let q = try QuantizedActivations([Float](repeating: 1, count: 256), for: w)
            #expect(throws: KernelError.levelUnavailable(tensor: "blk.3.attn_q.weight", type: "Q2_K", level: "avx2")) {
                try MatMul.dot(w, row: 0, q, level: .avx2)
            }
        }
    }
}
