import Kernels

/// The end of every architecture's forward pass: the final norm and the output matrix, applied only to the rows
/// whose logits are wanted (every row of an item when `allPositions`, else its last), split back per item.
enum OutputHead {
    /// Reusable buffers of a call: the wanted rows, normalised, and their logits.
    final class Scratch {
        let selected = ActivationRows()
        let logits = FloatBuffer()
        var products = ProductList()
        /// The arrays of the last result that kept one row per item, overwritten by the next such call (see
        /// `logits`).
        var handedOut: [[Float]] = []
        /// Per item, its row of `logits`.
        var rowOf: [Int] = []
        /// Per wanted row, the first element of the array its logits go to (decoding without a trace).
        var rowPointers: [UnsafeMutablePointer<Float>?] = []
    }

    /// `x` holds the rows of all items in order (`width` floats each); item i has `items[i].tokens.count` rows.
    ///
    /// The returned arrays (one per item) are what `forward` hands its caller. When every item keeps one row (not
    /// `allPositions`: decoding), they are the previous such call's arrays, overwritten: a decode loop has let go of
    /// those by then (its step's logits are sampled before the next step), so a step allocates nothing and touches
    /// no fresh pages (fresh arrays of 8 × 151,936 logits, 4.9 MB, which the allocator gives back to the system when
    /// they are freed, cost an 8-sequence qwen3moe step ~0.5 ms in page faults, measured 2026-12-01). Overwriting
    /// goes through copy-on-write, so a caller that still holds the previous result keeps its values (that call
    /// then pays a copy of each array). The scratch keeps the arrays (items × vocabulary floats) between calls.
    static func logits(
        _ x: UnsafePointer<Float>, width n: Int, items: [ForwardItem], allPositions: Bool, norm: RMSNorm,
        output: Linear, scratch: Scratch, pool: ThreadPool?, trace: TraceHook?
    ) throws(EngineError) -> [[Float]] {
        var wanted = 0
        for item in items { wanted += allPositions ? item.tokens.count : min(item.tokens.count, 1) }
        let selected = scratch.selected.reset(rows: wanted, columns: n)
        var row = 0, cursor = 0
        for item in items {
            let count = item.tokens.count
            let first = allPositions ? row : row + count - 1
            for r in first..<(row + count) where count > 0 {
                norm.normalize(x + r * n, count: n, into: selected + cursor * n)
                cursor += 1
            }
            row += count
        }
        trace?(TraceEvent(name: "result_norm", layer: nil, rows: wanted, columns: n, values: scratch.selected.values))
        let vocab = output.outputs
        // Decoding without a trace: each item's logits go straight from the output matrix into its array.
        let direct = !allPositions && trace == nil && wanted <= ProductList.maximumSeparateOutputRows
        var logits: UnsafeMutablePointer<Float>?
        if !direct {
            let all = scratch.logits.resize(wanted * vocab)
            logits = all
            if wanted > 0 {
                try output.append(scratch.selected, into: all, to: &scratch.products, pool: pool)
                try Linear.run(&scratch.products, pool: pool)
            }
            trace?(TraceEvent(name: "result_output", layer: nil, rows: wanted, columns: vocab,
                              values: scratch.logits.array))
        }

        if allPositions, let logits {
            var results: [[Float]] = []
            results.reserveCapacity(items.count)
            cursor = 0
            for item in items {
                let kept = item.tokens.count
                results.append([Float](UnsafeBufferPointer(start: logits + cursor * vocab, count: kept * vocab)))
                cursor += kept
            }
            return results
        }
        // Taken out of the scratch, so that when the caller has let go of them this is their only reference.
        var results = scratch.handedOut
        scratch.handedOut = []
        if results.count > items.count { results.removeLast(results.count - items.count) }
        // Item i's logits are row rowOf[i] of the step's rows (an item without tokens keeps none); arrays of the
        // wrong size are replaced, the others overwritten.
        scratch.rowOf.removeAll(keepingCapacity: true)
        cursor = 0
        for (index, item) in items.enumerated() {
            let kept = min(item.tokens.count, 1)
            scratch.rowOf.append(cursor)
            cursor += kept
            if index < results.count, results[index].count == kept * vocab { continue }
            let fresh = [Float](repeating: 0, count: kept * vocab)
            if index < results.count { results[index] = fresh } else { results.append(fresh) }
        }
        if direct {
            // Every array held for writing (copy-on-write first, so an array the caller still holds keeps its
            // values) while the product writes row rowOf[i] into array i.
            scratch.rowPointers.removeAll(keepingCapacity: true)
            scratch.rowPointers.append(contentsOf: repeatElement(nil, count: wanted))
            try results.withUnsafeMutableBufferPointer { arrays throws(EngineError) in
                try scratch.rowPointers.withUnsafeMutableBufferPointer { pointers throws(EngineError) in
                    try scratch.rowOf.withUnsafeBufferPointer { rowOf throws(EngineError) in
                        guard let arrays = arrays.baseAddress, let pointers = pointers.baseAddress,
                              let rowOf = rowOf.baseAddress, wanted > 0 else { return }
                        try Self.holding(arrays, count: items.count, from: 0, rowOf: rowOf, pointers: pointers) {
                            () throws(EngineError) in
                            try output.append(scratch.selected, outputRows: pointers, to: &scratch.products, pool: pool)
                            try Linear.run(&scratch.products, pool: pool)
                        }
                    }
                }
            }
        } else if let logits {
            results.withUnsafeMutableBufferPointer { arrays in
                scratch.rowOf.withUnsafeBufferPointer { rowOf in
                    guard let arrays = arrays.baseAddress, let rowOf = rowOf.baseAddress else { return }
                    var copy = LogitsCopy(arrays: arrays, rowOf: rowOf, logits: logits, vocabulary: vocab)
                    withUnsafeMutablePointer(to: &copy) { copy in
                        let context = UnsafeMutableRawPointer(copy)
                        ThreadPool.run(pool, count: items.count, context: context) { context, item in
                            context?.assumingMemoryBound(to: LogitsCopy.self).pointee.copy(item: Int(item))
                        }
                    }
                }
            }
        }
        scratch.handedOut = results
        return results
    }
}

extension OutputHead {
    /// Holds arrays from..<count for writing, one inside the other, sets `pointers[rowOf[i]]` to the first element of
    /// each non-empty one, and runs `body` inside all of them (so the pointers stay valid throughout).
    fileprivate static func holding(_ arrays: UnsafeMutablePointer<[Float]>, count: Int, from index: Int,
                                    rowOf: UnsafePointer<Int>,
                                    pointers: UnsafeMutablePointer<UnsafeMutablePointer<Float>?>,
                                    _ body: () throws(EngineError) -> Void) throws(EngineError)
    {
        guard index < count else { return try body() }
        var failure: EngineError?
        arrays[index].withUnsafeMutableBufferPointer { array in
            if let first = array.baseAddress, !array.isEmpty { pointers[rowOf[index]] = first }
            do throws(EngineError) {
                try holding(arrays, count: count, from: index + 1, rowOf: rowOf, pointers: pointers, body)
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
    }
}

/// Copies each item's logits row into its result array (a pool task per item; each task writes only its own array,
/// through copy-on-write, so an array the caller still holds is copied first and the caller's values stay).
private struct LogitsCopy {
    let arrays: UnsafeMutablePointer<[Float]>
    let rowOf: UnsafePointer<Int>
    let logits: UnsafePointer<Float>
    let vocabulary: Int

    func copy(item: Int) {
        let source = logits + rowOf[item] * vocabulary
        arrays[item].withUnsafeMutableBufferPointer { target in
            if let base = target.baseAddress { base.update(from: source, count: target.count) }
        }
    }
}
