import Kernels

/// Causal grouped-query attention of query rows over their sequences' KV caches, as llama.cpp computes it with an
/// F32 cache and flash attention off: scores = K·q · 1/√d, softmax with max subtraction (sum in double), then the
/// probability-weighted sum of V in position order. Each query head h reads KV head h / (heads / kvHeads). The
/// arithmetic is `AttentionKernel`'s (one fixed order per row, split across the pool by row and head), so a row's
/// result never depends on the batch or the thread count.
struct GroupedQueryAttention: Sendable {
    let heads: Int
    let kvHeads: Int
    let headDimension: Int

    var kernel: AttentionKernel { AttentionKernel(heads: heads, kvHeads: kvHeads, headDimension: headDimension) }

    /// Reusable buffers of one forward call: the per-position K and V pointers of every sequence and the score rows.
    struct Scratch {
        var keys: [UnsafePointer<Float>] = []
        var values: [UnsafePointer<Float>] = []
        var rows: [AttentionKernel.Row] = []
        /// Per cache: its last position in the call, and where its pointers start in `keys`/`values`.
        var last: [Int] = []
        var tableStart: [Int] = []
        var kernel = AttentionKernel.Workspace()
    }

    /// Writes `heads × headDimension` values per row to `output` (row-major, like `query`): row r is the query at
    /// `positions[r]` of `caches[items[r]]`, attending to that cache's positions 0...positions[r] of `layer`.
    func attend(query: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, items: [Int], positions: [Int],
                caches: [KVCacheState], layer: Int, scratch: inout Scratch, pool: ThreadPool?) throws(EngineError)
    {
        // Pointer tables: cache c's positions 0...last[c] start at tableStart[c].
        scratch.last.removeAll(keepingCapacity: true)
        scratch.last.append(contentsOf: repeatElement(-1, count: caches.count))
        for (row, item) in items.enumerated() { scratch.last[item] = max(scratch.last[item], positions[row]) }
        scratch.tableStart.removeAll(keepingCapacity: true)
        scratch.tableStart.append(contentsOf: repeatElement(0, count: caches.count))
        scratch.keys.removeAll(keepingCapacity: true)
        scratch.values.removeAll(keepingCapacity: true)
        for (c, cache) in caches.enumerated() {
            scratch.tableStart[c] = scratch.keys.count
            guard scratch.last[c] >= 0 else { continue }
            for p in 0...scratch.last[c] {
                scratch.keys.append(UnsafePointer(cache.key(layer: layer, position: p)))
                scratch.values.append(UnsafePointer(cache.value(layer: layer, position: p)))
            }
        }
        let width = heads * headDimension
        do {
            try scratch.keys.withUnsafeBufferPointer { k throws(KernelError) in
                try scratch.values.withUnsafeBufferPointer { v throws(KernelError) in
                    guard let kBase = k.baseAddress, let vBase = v.baseAddress else { return }
                    scratch.rows.removeAll(keepingCapacity: true)
                    for (row, item) in items.enumerated() {
                        scratch.rows.append(AttentionKernel.Row(
                            query: query + row * width, output: output + row * width,
                            keys: kBase + scratch.tableStart[item], values: vBase + scratch.tableStart[item],
                            positions: positions[row] + 1, headStride: caches[item].headStride))
                    }
                    try kernel.attend(scratch.rows, workspace: &scratch.kernel, pool: pool)
                }
            }
        } catch {
            throw .invalidInput("attention at layer \(layer): \(error.description)")
        }
    }
}
