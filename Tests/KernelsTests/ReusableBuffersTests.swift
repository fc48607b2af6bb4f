import GGUF
import Testing
@testable import Kernels

/// The allocation-free forms the decode loop uses (issue 12): `ThreadPool.run(count:body:)`, `ProductList` and
/// `QuantizedActivations.requantize` must compute exactly what the allocating forms compute.
@Suite("reusable kernel buffers")
struct ReusableBuffersTests {
    @Test("ThreadPool.run calls the body once for every index, with or without a pool", arguments: [0, 1, 2, 7, 1000])
    func poolRunCoversEveryIndex(count: Int) throws {
        for pool in try [nil, ThreadPool(threads: 2), ThreadPool(threads: 3)] {
            let calls = UnsafeMutableBufferPointer<Int>.allocate(capacity: max(count, 1))
            defer { calls.deallocate() }
            calls.initialize(repeating: 0)
            let base = calls.baseAddress
            // Each index writes only its own slot, so the threads never share a location.
            ThreadPool.run(pool, count: count) { index in base?[index] += 1 }
            let counts = Array(calls.prefix(count))
            #expect(counts.allSatisfy { $0 == 1 }, "\(pool?.threadCount ?? 1) threads, \(count) indices: \(counts.filter { $0 != 1 }.count) indices not called exactly once")
        }
    }

    @Test("ThreadPool.run runs a pool's jobs back to back (the pool is reused, never restarted)")
    func poolRunRepeats() throws {
        let pool = try ThreadPool(threads: 2)
        let total = UnsafeMutableBufferPointer<Int>.allocate(capacity: 64)
        defer { total.deallocate() }
        total.initialize(repeating: 0)
        let base = total.baseAddress
        for _ in 0..<500 { pool.run(count: 64) { index in base?[index] += index } }
        #expect(Array(total) == (0..<64).map { 500 * $0 })
    }

    @Test("re-quantizing into a used buffer gives the bytes of a fresh quantization", arguments: [GGMLType.q4_K, .q8_0, .q4_1])
    func requantize(type: GGMLType) throws {
        let columns = 512
        let bytes = KernelTestData.randomWeights(type, rows: 1, columns: columns, seed: 5)
        try WeightMatrix.over(bytes, type: type, rows: 1, columns: columns) { w in
            let first = KernelTestData.randomActivations(count: 3 * columns, seed: 6)
            let second = KernelTestData.randomActivations(count: 2 * columns, seed: 7)
            var reused = try QuantizedActivations(first, batch: 3, for: w)
            try second.withUnsafeBufferPointer { values in
                guard let base = values.baseAddress else { return }
                try reused.requantize(base, batch: 2, columns: columns, format: reused.format, tensor: w.name)
            }
            let fresh = try QuantizedActivations(second, batch: 2, for: w)
            #expect(reused.batch == 2 && reused.columns == columns && reused.rowBytes == fresh.rowBytes)
            for row in 0..<2 { #expect(reused.bytes(ofRow: row) == fresh.bytes(ofRow: row), "row \(row)") }
        }
    }

    @Test("requantize on a pool gives the bytes of quantizing on one thread", arguments: [1, 7, 8, 33])
    func requantizeOnPool(batch: Int) throws {
        let columns = 512
        let values = KernelTestData.randomActivations(count: batch * columns, seed: 41)
        for format in [ActivationFormat.q8_K, .q8_0, .q8_1] {
            let alone = try QuantizedActivations(values, batch: batch, format: format, tensor: "t")
            for pool in try [ThreadPool(threads: 2), ThreadPool(threads: 3)] {
                var pooled = try QuantizedActivations([Float](repeating: 0, count: columns), batch: 1, format: format,
                                                      tensor: "t")
                try values.withUnsafeBufferPointer { v in
                    try pooled.requantize(v.baseAddress!, batch: batch, columns: columns, format: format, tensor: "t",
                                          pool: pool)
                }
                #expect(pooled.batch == batch && pooled.rowBytes == alone.rowBytes)
                for row in 0..<batch {
                    #expect(pooled.bytes(ofRow: row) == alone.bytes(ofRow: row), "\(format) row \(row), \(pool.threadCount) threads")
                }
            }
        }
    }

    @Test("gather copies the chosen rows, repeats allowed, and refuses rows outside the batch")
    func gatherRows() throws {
        let columns = 256, batch = 6
        let values = KernelTestData.randomActivations(count: batch * columns, seed: 43)
        let source = try QuantizedActivations(values, batch: batch, format: .q8_K, tensor: "t")
        var gathered = try QuantizedActivations([Float](repeating: 1, count: 2 * 512), batch: 2, format: .q8_0,
                                                tensor: "t")
        let rows = [4, 0, 4, 5]
        try gathered.gather(rows: rows, from: source)
        #expect(gathered.format == .q8_K && gathered.batch == 4 && gathered.columns == columns)
        for (index, row) in rows.enumerated() { #expect(gathered.bytes(ofRow: index) == source.bytes(ofRow: row)) }
        let copy = gathered  // shares storage: the next gather must not write into it
        try gathered.gather(rows: [1], from: source)
        #expect(copy.bytes(ofRow: 0) == source.bytes(ofRow: 4) && gathered.bytes(ofRow: 0) == source.bytes(ofRow: 1))
        #expect(throws: KernelError.self) { try gathered.gather(rows: [6], from: source) }
        #expect(throws: KernelError.self) { try gathered.gather(rows: [Int](), from: source) }
    }

    /// The pool hands out ranges of the products' rows laid end to end (guided: large ranges first, at least 32
    /// rows, 16 when a product has several activation rows; each product padded to a multiple of 16), so one range
    /// can end inside a product or span a small one whole. Row counts here make every case happen with 2 and 3
    /// threads, and batches of 11 rows make two activation tiles.
    @Test("products whose rows are handed out as one range each give their own bits", arguments: [1, 3, 11])
    func productRangesCrossProducts(batch: Int) throws {
        let columns = 256
        let shapes: [(type: GGMLType, rows: Int)] = [(.q4_K, 5), (.q6_K, 300), (.q4_K, 37), (.q8_0, 1), (.q6_K, 130)]
        let weights = shapes.enumerated().map {
            KernelTestData.randomWeights($1.type, rows: $1.rows, columns: columns, seed: UInt64(20 + $0))
        }
        // One owned buffer for every weight matrix and one for every output, so the pointers outlive the list.
        let weightBytes = UnsafeMutableRawBufferPointer.allocate(byteCount: weights.map(\.count).reduce(0, +),
                                                                 alignment: 64)
        defer { weightBytes.deallocate() }
        let outputCount = shapes.map { batch * $0.rows }.reduce(0, +)
        let outputs = UnsafeMutableBufferPointer<Float>.allocate(capacity: outputCount)
        defer { outputs.deallocate() }
        var matrices: [WeightMatrix] = []
        var outputStarts: [Int] = []
        var weightOffset = 0, outputOffset = 0
        for (index, shape) in shapes.enumerated() {
            let slice = UnsafeMutableRawBufferPointer(rebasing: weightBytes[weightOffset..<(weightOffset + weights[index].count)])
            slice.copyBytes(from: weights[index])
            matrices.append(try WeightMatrix(name: "w\(index)", type: shape.type, rows: shape.rows, columns: columns,
                                             base: UnsafeRawPointer(slice.baseAddress!), byteCount: slice.count))
            outputStarts.append(outputOffset)
            weightOffset += weights[index].count
            outputOffset += batch * shape.rows
        }
        let values = KernelTestData.randomActivations(count: batch * columns, seed: 31)
        let inputs = try matrices.map { try QuantizedActivations(values, batch: batch, for: $0) }
        let expected = try matrices.indices.map { try MatMul.multiply(matrices[$0], inputs[$0], pool: nil) }
        var list = ProductList()
        for pool in try [nil, ThreadPool(threads: 2), ThreadPool(threads: 3)] {
            for round in 0..<3 {
                outputs.update(repeating: .nan)
                for index in matrices.indices {
                    try list.append(matrices[index], inputs[index], output: outputs.baseAddress! + outputStarts[index])
                }
                try list.run(pool: pool)
                list.removeAll()
                for index in matrices.indices {
                    let got = outputs[outputStarts[index]..<(outputStarts[index] + expected[index].count)]
                    let same = zip(got, expected[index]).allSatisfy { $0.bitPattern == $1.bitPattern }
                    #expect(same, "product \(index) (\(shapes[index].rows) rows), \(pool?.threadCount ?? 1) threads, round \(round)")
                }
            }
        }
    }

    @Test("a product list gives MatMul.multiply's bits, run after run", arguments: [GGMLType.q4_K, .q6_K, .q4_1])
    func productList(type: GGMLType) throws {
        let rows = 37, columns = 512
        let bytesA = KernelTestData.randomWeights(type, rows: rows, columns: columns, seed: 11)
        let bytesB = KernelTestData.randomWeights(type, rows: rows + 5, columns: columns, seed: 12)
        let pool = try ThreadPool(threads: 2)
        try WeightMatrix.over(bytesA, type: type, rows: rows, columns: columns) { a in
            try WeightMatrix.over(bytesB, type: type, rows: rows + 5, columns: columns) { b in
                let x = try QuantizedActivations(KernelTestData.randomActivations(count: 3 * columns, seed: 13),
                                                 batch: 3, for: a)
                let expectedA = try MatMul.multiply(a, x, pool: pool)
                let expectedB = try MatMul.multiply(b, x, pool: pool)
                var list = ProductList()
                var outA = [Float](repeating: .nan, count: expectedA.count)
                var outB = [Float](repeating: .nan, count: expectedB.count)
                for _ in 0..<3 {
                    try outA.withUnsafeMutableBufferPointer { oa in
                        try outB.withUnsafeMutableBufferPointer { ob in
                            guard let pa = oa.baseAddress, let pb = ob.baseAddress else { return }
                            try list.append(a, x, output: pa)
                            try list.append(b, x, output: pb)
                            #expect(list.count == 2)
                            try list.run(pool: pool)
                            list.removeAll()
                        }
                    }
                    #expect(zip(outA, expectedA).allSatisfy { $0.bitPattern == $1.bitPattern })
                    #expect(zip(outB, expectedB).allSatisfy { $0.bitPattern == $1.bitPattern })
                }
            }
        }
    }

    /// The mixture-of-experts layer gathers every expert's tokens into one batch and multiplies each expert by its run
    /// of rows: each run must give what a batch of just those rows gives, and a range outside the batch is refused.
    @Test("a product over a run of a batch's rows gives the bits of a batch of those rows alone",
          arguments: [GGMLType.q4_K, .q6_K, .q4_1])
    func productOverRows(type: GGMLType) throws {
        let rows = 40, columns = 512
        let bytes = KernelTestData.randomWeights(type, rows: rows, columns: columns, seed: 21)
        let pool = try ThreadPool(threads: 2)
        try WeightMatrix.over(bytes, type: type, rows: rows, columns: columns) { w in
            let tokens = try QuantizedActivations(KernelTestData.randomActivations(count: 5 * columns, seed: 22),
                                                  batch: 5, for: w)
            // Members in "expert order": token rows repeat and come out of order, as routing makes them.
            let memberRows = [4, 0, 2, 2, 1, 3, 0, 4, 4]
            var gathered = QuantizedActivations()
            try gathered.gather(rows: memberRows, from: tokens)
            let runs = [0..<1, 1..<4, 4..<5, 5..<9]
            var out = [Float](repeating: .nan, count: memberRows.count * rows)
            var list = ProductList()
            try out.withUnsafeMutableBufferPointer { o in
                guard let base = o.baseAddress else { return }
                for run in runs { try list.append(w, gathered, rows: run, output: base + run.lowerBound * rows) }
                try list.run(pool: pool)
                list.removeAll()
            }
            for run in runs {
                var alone = QuantizedActivations()
                try alone.gather(rows: Array(memberRows[run]), from: tokens)
                let expected = try MatMul.multiply(w, alone, pool: nil)
                let got = out[(run.lowerBound * rows)..<(run.upperBound * rows)]
                #expect(zip(got, expected).allSatisfy { $0.bitPattern == $1.bitPattern }, "rows \(run)")
            }
            try out.withUnsafeMutableBufferPointer { o in
                guard let base = o.baseAddress else { return }
                try list.append(w, gathered, rows: 3..<3, output: base)
            }
            #expect(list.count == 0, "an empty run adds no product")
            for bad in [7..<10, -1..<2, 9..<12] {
                var refused = false
                do {
                    try out.withUnsafeMutableBufferPointer { o in
                        guard let base = o.baseAddress else { return }
                        try list.append(w, gathered, rows: bad, output: base)
                    }
                } catch let error as KernelError {
                    if case .activationMismatch = error { refused = true }
                }
                #expect(refused, "rows \(bad) of a batch of \(memberRows.count)")
                #expect(list.count == 0)
            }
        }
    }

    /// Decoding writes each sequence's logits straight into its own array (`ProductList.append(_:_:outputRows:)`): the
    /// bits of one contiguous product, for the ggml rows, the few-rows and tile kernels, the repacked groups and F32,
    /// batches 1…11, rows not on a group or staging-block boundary, with and without a pool.
    @Test("a product with one output array per activation row gives the contiguous product's bits",
          arguments: [GGMLType.q4_K, .q6_K, .q4_1, .f32])
    func separateOutputRows(type: GGMLType) throws {
        let rows = 150, columns = 512
        let bytes = KernelTestData.randomWeights(type, rows: rows, columns: columns, seed: 41)
        let pools = try [nil, ThreadPool(threads: 2)]
        try WeightMatrix.over(bytes, type: type, rows: rows, columns: columns) { plain in
            let repacked = try WeightRepacker(pool: nil).repack(plain)
            for w in [plain, repacked] {
                let layout = w.repacked == nil ? "ggml" : "repacked"
                for batch in [1, 2, 3, 4, 8, 11] {
                    let x = (0..<batch).flatMap {
                        KernelTestData.randomActivations(count: columns, seed: UInt64(60 + $0))
                    }
                    let q = try QuantizedActivations(x, batch: batch, for: w)
                    let expected = try MatMul.multiply(plain, q, pool: nil)
                    for pool in pools {
                        // Arrays apart from each other (not one matrix), each with a guard value past its end.
                        let arrays = (0..<batch).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: rows + 1) }
                        defer { arrays.forEach { $0.deallocate() } }
                        for a in arrays {
                            a.initialize(repeating: .nan, count: rows)
                            (a + rows).initialize(to: 7)
                        }
                        var list = ProductList()
                        let table: [UnsafeMutablePointer<Float>?] = arrays
                        try table.withUnsafeBufferPointer { t in
                            guard let base = t.baseAddress else { return }
                            try list.append(w, q, outputRows: base)
                            try list.run(pool: pool)
                        }
                        for b in 0..<batch {
                            let got = (0..<rows).map { arrays[b][$0].bitPattern }
                            #expect(got == expected[(b * rows)..<((b + 1) * rows)].map(\.bitPattern),
                                    "\(type.name) \(layout), batch \(batch), row \(b), \(pool?.threadCount ?? 1) threads")
                            #expect(arrays[b][rows] == 7, "row \(b): written past its array")
                        }
                    }
                }
            }
        }
    }
}
