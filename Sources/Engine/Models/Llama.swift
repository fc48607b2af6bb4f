import Kernels

/// `llama` (SmolLM2), following llama.cpp `src/models/llama.cpp` and transformers' `LlamaForCausalLM`:
/// pre-norm layers of multi-head attention (grouped KV heads, no q/k norms, RoPE in llama.cpp's NORM style on
/// the converter's permuted q/k rows) and a dense SwiGLU MLP; tied embeddings when the file has no output.weight.
enum Llama {
    static let architecture = "llama"

    static func load(_ source: TensorSource, _ h: HyperParameters, name: String, pool: ThreadPool?)
        throws(EngineError) -> TransformerModel
    {
        var layers: [DecoderLayer] = []
        for i in 0..<h.layerCount {
            let ffn = try DecoderWeights.denseFeedForward(source, h, index: i)
            layers.append(try DecoderWeights.layer(source, h, index: i, headNorms: false, feedForward: ffn))
        }
        return try DecoderWeights.model(source, h, name: name, layers: layers, ropeStyle: .normal, pool: pool)
    }
}
