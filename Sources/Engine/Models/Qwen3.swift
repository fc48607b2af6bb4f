import Kernels

/// `qwen3` (dense), following llama.cpp `src/models/qwen3.cpp` and transformers' `Qwen3ForCausalLM`: llama's
/// layer plus a per-head RMSNorm of q and k (`attn_q_norm`, `attn_k_norm`, `{head_dim}`) before RoPE, which
/// rotates in NEOX style (pairs i, i + d/2).
enum Qwen3 {
    static let architecture = "qwen3"

    static func load(_ source: TensorSource, _ h: HyperParameters, name: String, pool: ThreadPool?)
        throws(EngineError) -> TransformerModel
    {
        var layers: [DecoderLayer] = []
        for i in 0..<h.layerCount {
            let ffn = try DecoderWeights.denseFeedForward(source, h, index: i)
            layers.append(try DecoderWeights.layer(source, h, index: i, headNorms: true, feedForward: ffn))
        }
        return try DecoderWeights.model(source, h, name: name, layers: layers, ropeStyle: .neox, pool: pool)
    }
}
