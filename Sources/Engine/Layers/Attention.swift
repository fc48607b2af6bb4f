import Foundation

/// Causal grouped-query attention of one query row over a sequence's KV cache, as llama.cpp computes it with an
/// F32 cache and flash attention off: scores = K·q · 1/√d, softmax with max subtraction (sum in double), then the
/// probability-weighted sum of V in position order. Each query head h reads KV head h / (heads / kvHeads).
/// Everything is a fixed-order loop over this one sequence, so the result never depends on the batch.
struct GroupedQueryAttention: Sendable {
    let heads: Int
    let kvHeads: Int
    let headDimension: Int

    /// Writes `heads × headDimension` values to `output` for the query row `query` at `position`, attending to
    /// cache positions 0...position of `layer`. `scores` is scratch of at least position + 1 floats.
    func attend(query: UnsafePointer<Float>, position: Int, layer: Int, cache: KVCacheState,
                output: UnsafeMutablePointer<Float>, scores: UnsafeMutablePointer<Float>)
    {
        let d = headDimension
        let group = heads / kvHeads
        let scale = 1 / Float(d).squareRoot()
        let count = position + 1
        for head in 0..<heads {
            let q = query + head * d
            let kvOffset = (head / group) * d
            var maximum = -Float.infinity
            for p in 0..<count {
                let k = cache.key(layer: layer, position: p) + kvOffset
                var dot: Float = 0
                for i in 0..<d { dot += q[i] * k[i] }
                let score = dot * scale
                scores[p] = score
                maximum = max(maximum, score)
            }
            var sum: Double = 0
            for p in 0..<count {
                let e = expf(scores[p] - maximum)
                scores[p] = e
                sum += Double(e)
            }
            let inverse = Float(1 / sum)
            let out = output + head * d
            for i in 0..<d { out[i] = 0 }
            for p in 0..<count {
                let weight = scores[p] * inverse
                let v = cache.value(layer: layer, position: p) + kvOffset
                for i in 0..<d { out[i] += weight * v[i] }
            }
        }
    }
}
