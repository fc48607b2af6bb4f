import Kernels

/// The end of every architecture's forward pass: the final norm and the output matrix, applied only to the rows
/// whose logits are wanted (every row of an item when `allPositions`, else its last), split back per item.
enum OutputHead {
    /// `x` holds the rows of all items in order (`width` floats each); `tokenCounts[i]` rows belong to item i.
    static func logits(
        _ x: [Float], width n: Int, tokenCounts: [Int], allPositions: Bool, norm: RMSNorm, output: Linear,
        pool: ThreadPool?, trace: TraceHook?
    ) throws(EngineError) -> [[Float]] {
        var wanted: [Int] = []
        var start = 0
        for count in tokenCounts {
            if allPositions {
                wanted.append(contentsOf: start..<(start + count))
            } else if count > 0 {
                wanted.append(start + count - 1)
            }
            start += count
        }
        var selected: [Float] = []
        selected.reserveCapacity(wanted.count * n)
        for row in wanted { selected.append(contentsOf: x[(row * n)..<((row + 1) * n)]) }
        let finalNormed = norm(selected)
        trace?(TraceEvent(name: "result_norm", layer: nil, rows: wanted.count, columns: n, values: finalNormed))
        let logits = try output(ActivationRows(finalNormed, rows: wanted.count), pool: pool)
        let vocab = output.outputs
        trace?(TraceEvent(name: "result_output", layer: nil, rows: wanted.count, columns: vocab, values: logits))

        var results: [[Float]] = []
        var cursor = 0
        for count in tokenCounts {
            let kept = allPositions ? count : min(count, 1)
            results.append(Array(logits[(cursor * vocab)..<((cursor + kept) * vocab)]))
            cursor += kept
        }
        return results
    }
}
