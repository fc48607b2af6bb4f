import GGUF
import Kernels

/// The tensor declarations the decoder architectures share, by llama.cpp's names (`LLM_TENSOR_*` in
/// llama-arch.cpp) with the shapes llama.cpp's `llama_model::load_tensors` creates them with (ggml order).
enum DecoderWeights {
    /// `blk.N.attn_norm`, `attn_q`, `attn_k`, `attn_v`, `attn_output`, and `attn_q_norm`/`attn_k_norm` when
    /// `headNorms`; plus `ffn_norm`.
    static func layer(_ source: TensorSource, _ h: HyperParameters, index i: Int, headNorms: Bool,
                      feedForward: FeedForward) throws(EngineError) -> DecoderLayer
    {
        let n = h.embeddingLength, d = h.headDimension
        let p = "blk.\(i)."
        func norm(_ name: String, _ count: Int) throws(EngineError) -> RMSNorm {
            RMSNorm(weight: try source.vector(p + name + ".weight", count: count), epsilon: h.rmsEpsilon)
        }
        func linear(_ name: String, _ columns: Int, _ rows: Int) throws(EngineError) -> Linear {
            Linear(weight: try source.matrix(p + name + ".weight", columns: columns, rows: rows))
        }
        return DecoderLayer(
            attentionNorm: try norm("attn_norm", n),
            query: try linear("attn_q", n, h.headCount * d),
            key: try linear("attn_k", n, h.kvHeadCount * d),
            value: try linear("attn_v", n, h.kvHeadCount * d),
            attentionOutput: try linear("attn_output", h.headCount * d, n),
            queryNorm: headNorms ? try norm("attn_q_norm", d) : nil,
            keyNorm: headNorms ? try norm("attn_k_norm", d) : nil,
            feedForwardNorm: try norm("ffn_norm", n),
            feedForward: feedForward
        )
    }

    /// `blk.N.ffn_gate`, `ffn_up` `{n_embd, n_ff}` and `ffn_down` `{n_ff, n_embd}`.
    static func denseFeedForward(_ source: TensorSource, _ h: HyperParameters, index i: Int) throws(EngineError)
        -> FeedForward
    {
        let n = h.embeddingLength, f = h.feedForwardLength
        let p = "blk.\(i)."
        return .dense(SwiGLU(
            gate: Linear(weight: try source.matrix(p + "ffn_gate.weight", columns: n, rows: f)),
            up: Linear(weight: try source.matrix(p + "ffn_up.weight", columns: n, rows: f)),
            down: Linear(weight: try source.matrix(p + "ffn_down.weight", columns: f, rows: n))
        ))
    }

    /// `blk.N.ffn_gate_inp` `{n_embd, n_expert}` and the 3-D `ffn_{gate,up}_exps` `{n_embd, n_ff_exp, n_expert}`,
    /// `ffn_down_exps` `{n_ff_exp, n_embd, n_expert}`.
    static func expertFeedForward(_ source: TensorSource, _ h: HyperParameters, index i: Int, normalizeTopK: Bool)
        throws(EngineError) -> FeedForward
    {
        let n = h.embeddingLength, f = h.expertFeedForwardLength, e = h.expertCount
        let p = "blk.\(i)."
        return .experts(MixtureOfExperts(
            router: Linear(weight: try source.matrix(p + "ffn_gate_inp.weight", columns: n, rows: e)),
            gate: try source.experts(p + "ffn_gate_exps.weight", columns: n, rows: f, count: e).map(Linear.init),
            up: try source.experts(p + "ffn_up_exps.weight", columns: n, rows: f, count: e).map(Linear.init),
            down: try source.experts(p + "ffn_down_exps.weight", columns: f, rows: n, count: e).map(Linear.init),
            topK: h.expertUsedCount,
            normalizeTopK: normalizeTopK
        ))
    }

    /// `token_embd` `{n_embd, n_vocab}`, `output_norm` `{n_embd}`, and `output` `{n_embd, n_vocab}` (token_embd
    /// when absent: tied embeddings, as in SmolLM2).
    static func globals(_ source: TensorSource, _ h: HyperParameters) throws(EngineError)
        -> (embedding: WeightMatrix, outputNorm: RMSNorm, output: Linear)
    {
        let n = h.embeddingLength
        guard let info = source.file.tensorInfo(named: "token_embd.weight"), info.dimensions.count == 2 else {
            throw .tensor(name: "token_embd.weight", reason: "expected [\(n), n_vocab], found no such 2-D tensor in \(source.path)")
        }
        let vocabulary = info.dimensions[1]
        let tied = !source.has("output.weight")
        // Embedding rows are read one at a time; only a tied embedding, which is also the output, gets a copy.
        let embedding = try source.matrix("token_embd.weight", columns: n, rows: vocabulary, repack: tied)
        let norm = RMSNorm(weight: try source.vector("output_norm.weight", count: n), epsilon: h.rmsEpsilon)
        let output = tied ? embedding : try source.matrix("output.weight", columns: n, rows: vocabulary)
        return (embedding, norm, Linear(weight: output))
    }

    /// Assembles the model the layers describe.
    static func model(_ source: TensorSource, _ h: HyperParameters, name: String, layers: [DecoderLayer],
                      ropeStyle: RoPE.Style, pool: ThreadPool?) throws(EngineError) -> TransformerModel
    {
        let (embedding, outputNorm, output) = try globals(source, h)
        let properties = LanguageModelProperties(
            architecture: h.architecture, name: name, vocabularySize: output.outputs,
            trainedContextLength: h.contextLength,
            cacheBytesPerToken: h.layerCount * 2 * h.kvHeadCount * h.headDimension * MemoryLayout<Float>.size
        )
        return TransformerModel(mapping: source.owner, properties: properties, hyper: h, embedding: embedding, layers: layers,
                                outputNorm: outputNorm, output: output, ropeStyle: ropeStyle, pool: pool)
    }
}
