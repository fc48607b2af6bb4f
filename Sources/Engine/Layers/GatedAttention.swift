import Foundation
import Kernels

/// The gated full-attention mixer of qwen3next (transformers' `Qwen3NextAttention`, llama.cpp
/// `build_layer_attn` in `src/models/qwen3next.cpp`; REFERENCE.md §3.3): `attn_q` yields, per head, the query
/// (first d values) and a gate (next d); q and k get per-head RMSNorm, then RoPE on the first `rope.dimensions` of
/// each head (NEOX pairs); causal GQA over the sequence's KV cache; the result is multiplied by sigmoid(gate) before
/// the output projection.
struct GatedAttention: Sendable {
    /// `attn_q` `{n_embd, heads·2·d}` (query and gate interleaved per head).
    let queryGate: Linear
    /// `attn_k`, `attn_v` `{n_embd, kvHeads·d}`.
    let key: Linear, value: Linear
    /// `attn_output` `{heads·d, n_embd}`.
    let output: Linear
    /// `attn_q_norm`, `attn_k_norm` `{d}` (stored with HF's +1 already added by the converter).
    let queryNorm: RMSNorm, keyNorm: RMSNorm
    let heads: Int
    let kvHeads: Int
    let headDimension: Int
    /// Partial rotary: `dimensions` ≤ headDimension.
    let rope: RoPE

    /// Runs the batch's rows (`positions[row]`, `caches[row]` = that row's sequence cache) through the layer's
    /// attention at attention-layer ordinal `layer`. Writes K and V into the caches before attending, so each row
    /// sees the rows of its own sequence that precede it. Returns rows × n_embd.
    func callAsFunction(_ x: ActivationRows, positions: [Int], caches: [KVCacheState], layer: Int,
                        pool: ThreadPool?) throws(EngineError) -> [Float]
    {
        let rows = x.rows, d = headDimension
        let qWidth = heads * d, kvWidth = kvHeads * d
        // The three projections in one pool job (each equal to its own call bit for bit, `Linear.apply`).
        var projected = try Linear.apply([(queryGate, x), (key, x), (value, x)], pool: pool)
        guard projected.count == 3 else { throw .invalidInput("GatedAttention: expected 3 projections") }
        let v = projected.removeLast()
        var k = projected.removeLast()
        let qg = projected.removeLast()
        var q = [Float](repeating: 0, count: rows * qWidth)
        var gate = [Float](repeating: 0, count: rows * qWidth)
        for row in 0..<rows {
            for h in 0..<heads {
                let src = row * 2 * qWidth + h * 2 * d, dst = row * qWidth + h * d
                for i in 0..<d {
                    q[dst + i] = qg[src + i]
                    gate[dst + i] = qg[src + d + i]
                }
            }
        }
        queryNorm.apply(&q)
        keyNorm.apply(&k)
        q.withUnsafeMutableBufferPointer { qb in
            k.withUnsafeMutableBufferPointer { kb in
                guard let qp = qb.baseAddress, let kp = kb.baseAddress else { return }
                for row in 0..<rows {
                    let angles = rope.angles(position: positions[row])
                    rope.apply(qp + row * qWidth, heads: heads, headDimension: d, cos: angles.cos, sin: angles.sin)
                    rope.apply(kp + row * kvWidth, heads: kvHeads, headDimension: d, cos: angles.cos, sin: angles.sin)
                }
            }
        }
        for row in 0..<rows {
            let kDest = caches[row].key(layer: layer, position: positions[row])
            let vDest = caches[row].value(layer: layer, position: positions[row])
            for i in 0..<kvWidth {
                kDest[i] = k[row * kvWidth + i]
                vDest[i] = v[row * kvWidth + i]
            }
        }
        let attention = GroupedQueryAttention(heads: heads, kvHeads: kvHeads, headDimension: d)
        // One entry per distinct sequence; rows point at theirs.
        var distinct: [KVCacheState] = []
        var items: [Int] = []
        items.reserveCapacity(rows)
        for cache in caches {
            if let index = distinct.firstIndex(where: { $0 === cache }) {
                items.append(index)
            } else {
                items.append(distinct.count)
                distinct.append(cache)
            }
        }
        var attended = [Float](repeating: 0, count: rows * qWidth)
        var scratch = GroupedQueryAttention.Scratch()
        try q.withUnsafeBufferPointer { qb throws(EngineError) in
            try attended.withUnsafeMutableBufferPointer { ab throws(EngineError) in
                guard let qp = qb.baseAddress, let ap = ab.baseAddress else { return }
                try attention.attend(query: qp, output: ap, items: items, positions: positions, caches: distinct,
                                     layer: layer, scratch: &scratch, pool: pool)
            }
        }
        for i in attended.indices { attended[i] *= 1 / (1 + expf(-gate[i])) }
        return try output(ActivationRows(attended, rows: rows), pool: pool)
    }
}
