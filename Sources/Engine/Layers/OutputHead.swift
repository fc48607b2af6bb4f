import Kernels

/// The end of every architecture's forward pass: the final norm and the output matrix, applied only to the rows
/// whose logits are wanted (every row of an item when `allPositions`, else its last), split back per item.
enum OutputHead {
    /// Reusable buffers of a call: the wanted rows, normalised, and their logits.
    final class Scratch {
        let selected = ActivationRows()
        let logits = FloatBuffer()
        var products = ProductList()
    }

    /// `x` holds the rows of all items in order (`width` floats each); item i has `items[i].tokens.count` rows.
    /// The returned arrays (one per item) are the only allocations: they are what `forward` hands its caller.
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
        let logits = scratch.logits.resize(wanted * vocab)
        if wanted > 0 {
            try output.append(scratch.selected, into: logits, to: &scratch.products, pool: pool)
            try Linear.run(&scratch.products, pool: pool)
        }
        trace?(TraceEvent(name: "result_output", layer: nil, rows: wanted, columns: vocab, values: scratch.logits.array))

        var results: [[Float]] = []
        results.reserveCapacity(items.count)
        cursor = 0
        for item in items {
            let kept = allPositions ? item.tokens.count : min(item.tokens.count, 1)
            results.append(Array(UnsafeBufferPointer(start: logits + cursor * vocab, count: kept * vocab)))
            cursor += kept
        }
        return results
    }
}
