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

    /// Reusable buffers of a call, per row of the batch: q·gate `// (rows, 2·heads·d)`, q and gate
    /// `// (rows, heads·d)`, k and v `// (rows, kvHeads·d)`, RoPE's cos and sin `// (rows, rope_dims / 2)`.
    final class Scratch {
        let queryGate = FloatBuffer(), q = FloatBuffer(), gate = FloatBuffer(), k = FloatBuffer(), v = FloatBuffer()
        let cos = FloatBuffer(), sin = FloatBuffer()
        /// One entry per distinct sequence; per row, its entry.
        var distinct: [KVCacheState] = [], items: [Int] = []
        let attended = ActivationRows()
        var attention = GroupedQueryAttention.Scratch()
        var products = ProductList()
    }

    /// Runs the batch's rows (`positions[row]`, `caches[row]` = that row's sequence cache) through the layer's
    /// attention at attention-layer ordinal `layer`. Writes K and V into the caches before attending, so each row
    /// sees the rows of its own sequence that precede it. Writes rows × n_embd to `result`.
    func callAsFunction(_ x: ActivationRows, positions: [Int], caches: [KVCacheState], layer: Int,
                        into result: UnsafeMutablePointer<Float>, scratch s: Scratch, pool: ThreadPool?)
        throws(EngineError)
    {
        let rows = x.rows, d = headDimension
        let qWidth = heads * d, kvWidth = kvHeads * d
        // The three projections in one pool job (each equal to its own call bit for bit).
        let qg = s.queryGate.resize(rows * 2 * qWidth)
        let k = s.k.resize(rows * kvWidth), v = s.v.resize(rows * kvWidth)
        try queryGate.append(x, into: qg, to: &s.products, pool: pool)
        try key.append(x, into: k, to: &s.products, pool: pool)
        try value.append(x, into: v, to: &s.products, pool: pool)
        try Linear.run(&s.products, pool: pool)
        let q = s.q.resize(rows * qWidth), gate = s.gate.resize(rows * qWidth)
        for row in 0..<rows {
            for h in 0..<heads {
                let src = row * 2 * qWidth + h * 2 * d, dst = row * qWidth + h * d
                (q + dst).update(from: qg + src, count: d)
                (gate + dst).update(from: qg + src + d, count: d)
            }
        }
        queryNorm.normalize(q, count: rows * qWidth, into: q, pool: pool)
        keyNorm.normalize(k, count: rows * kvWidth, into: k, pool: pool)
        let half = rope.dimensions / 2
        let cos = s.cos.resize(half), sin = s.sin.resize(half)
        for row in 0..<rows {
            rope.angles(position: positions[row], cos: cos, sin: sin)
            rope.apply(q + row * qWidth, heads: heads, headDimension: d, cos: cos, sin: sin)
            rope.apply(k + row * kvWidth, heads: kvHeads, headDimension: d, cos: cos, sin: sin)
        }
        for row in 0..<rows {
            caches[row].store(layer: layer, position: positions[row], keys: k + row * kvWidth, values: v + row * kvWidth)
        }
        let attention = GroupedQueryAttention(heads: heads, kvHeads: kvHeads, headDimension: d)
        s.distinct.removeAll(keepingCapacity: true)
        s.items.removeAll(keepingCapacity: true)
        defer { s.distinct.removeAll(keepingCapacity: true) }
        for cache in caches {
            if let index = s.distinct.firstIndex(where: { $0 === cache }) {
                s.items.append(index)
            } else {
                s.items.append(s.distinct.count)
                s.distinct.append(cache)
            }
        }
        let attended = s.attended.reset(rows: rows, columns: qWidth)
        attended.update(repeating: 0, count: rows * qWidth)
        try attention.attend(query: q, output: attended, items: s.items, positions: positions, caches: s.distinct,
                             layer: layer, scratch: &s.attention, pool: pool)
        for i in 0..<(rows * qWidth) { attended[i] *= 1 / (1 + expf(-gate[i])) }
        try output.append(s.attended, into: result, to: &s.products, pool: pool)
        try Linear.run(&s.products, pool: pool)
    }
}
