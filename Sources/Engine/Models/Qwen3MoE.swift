import Kernels

/// `qwen3moe` (Qwen3-Coder-30B-A3B), following llama.cpp `src/models/qwen3moe.cpp` and transformers'
/// `Qwen3MoeForCausalLM`: qwen3's attention (q/k head norms, NEOX RoPE) and, in every layer, the sparse MoE block
/// (`ffn_gate_inp` router, softmax, top-k, renormalised, experts from the 3-D `ffn_*_exps` tensors; HF's
/// post_attention_layernorm is `ffn_norm`). llama.cpp always renormalises the top-k weights for this
/// architecture (REFERENCE.md §0), and so do we, whatever `norm_top_k_prob` says.
enum Qwen3MoE {
    static let architecture = "qwen3moe"

    static func load(_ source: TensorSource, _ h: HyperParameters, name: String, pool: ThreadPool?)
        throws(EngineError) -> TransformerModel
    {
        guard h.expertCount > 0, h.expertUsedCount > 0, h.expertUsedCount <= h.expertCount,
              h.expertFeedForwardLength > 0
        else {
            throw .model(path: source.path, reason: "qwen3moe: expected expert_count ≥ expert_used_count > 0 and "
                         + "expert_feed_forward_length > 0, found \(h.expertCount), \(h.expertUsedCount), "
                         + "\(h.expertFeedForwardLength)")
        }
        var layers: [DecoderLayer] = []
        for i in 0..<h.layerCount {
            let ffn = try DecoderWeights.expertFeedForward(source, h, index: i, normalizeTopK: true)
            layers.append(try DecoderWeights.layer(source, h, index: i, headNorms: true, feedForward: ffn))
        }
        return try DecoderWeights.model(source, h, name: name, layers: layers, ropeStyle: .neox, pool: pool)
    }
}
