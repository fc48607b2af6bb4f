import Kernels
import Tokenizers

/// The feed-forward part of a decoder layer.
enum FeedForward: Sendable {
    /// A dense SwiGLU MLP (llama, qwen3).
    case dense(SwiGLU)
    /// A sparse mixture of SwiGLU experts (qwen3moe).
    case experts(MixtureOfExperts)
}

/// One pre-norm decoder layer's weights (llama.cpp `llama_layer`), shapes in ggml order.
struct DecoderLayer: Sendable {
    /// `{n_embd}`.
    let attentionNorm: RMSNorm
    /// `{n_embd, n_head·d}`, `{n_embd, n_head_kv·d}`, `{n_embd, n_head_kv·d}`, `{n_head·d, n_embd}`.
    let query: Linear, key: Linear, value: Linear, attentionOutput: Linear
    /// `{d}` per-head RMSNorm of q and k before RoPE (qwen3, qwen3moe); nil for llama.
    let queryNorm: RMSNorm?, keyNorm: RMSNorm?
    /// `{n_embd}`.
    let feedForwardNorm: RMSNorm
    let feedForward: FeedForward
}

/// A decoder-only transformer built by one of the architecture files in `Engine/Models/` (llama, qwen3,
/// qwen3moe): embeddings → layers (x += attn(norm(x)); x += ffn(norm(x))) → norm → output matrix. The
/// architectures differ only in what they put in `DecoderLayer` and in their RoPE style, so the forward pass is
/// written once, here.
///
/// Batch invariance: the projections run all tokens of the call through MatMul (each output row is one kernel
/// call, independent of the batch); norms, RoPE, attention and the MoE weighted sum are per-row loops in a fixed
/// order. So a sequence's logits do not depend on the other items, the batch size or the thread count.
public final class TransformerModel: TraceableLanguageModel, @unchecked Sendable {
    // Immutable after init; the thread pool serialises its own jobs.
    public let properties: LanguageModelProperties
    let hyper: HyperParameters
    /// `{n_embd, n_vocab}`: row t is token t's embedding.
    let embedding: WeightMatrix
    let layers: [DecoderLayer]
    /// `{n_embd}`.
    let outputNorm: RMSNorm
    /// `{n_embd, n_vocab}` (token_embd when the file has no output.weight).
    let output: Linear
    let rope: RoPE
    let attention: GroupedQueryAttention
    let pool: ThreadPool?
    /// The mapped file every WeightMatrix points into; holding it keeps the mapping alive.
    let mapping: AnyObject
    /// The buffers of a forward call, reused by the next one (no heap allocation per decoded token).
    let scratch = ScratchCache { TransformerScratch() }

    init(mapping: AnyObject, properties: LanguageModelProperties, hyper: HyperParameters, embedding: WeightMatrix, layers: [DecoderLayer],
         outputNorm: RMSNorm, output: Linear, ropeStyle: RoPE.Style, pool: ThreadPool?)
    {
        self.properties = properties
        self.hyper = hyper
        self.embedding = embedding
        self.layers = layers
        self.outputNorm = outputNorm
        self.output = output
        rope = RoPE(style: ropeStyle, dimensions: hyper.ropeDimensions, base: hyper.ropeBase)
        attention = GroupedQueryAttention(heads: hyper.headCount, kvHeads: hyper.kvHeadCount,
                                          headDimension: hyper.headDimension)
        self.pool = pool
        self.mapping = mapping
    }

    public func makeState(capacity: Int) throws(EngineError) -> any SequenceState {
        try KVCacheState(layers: layers.count, width: hyper.kvHeadCount * hyper.headDimension, kvHeads: hyper.kvHeadCount,
                         capacity: capacity)
    }

    public func forward(_ items: [ForwardItem], allPositions: Bool) throws(EngineError) -> [[Float]] {
        try forward(items, allPositions: allPositions, trace: nil)
    }

    /// `forward`, reporting every named intermediate result to `trace` (rows are the tokens of all items, in
    /// order).
    public func forward(_ items: [ForwardItem], allPositions: Bool, trace: TraceHook?) throws(EngineError) -> [[Float]] {
        try scratch.withScratch { (w: TransformerScratch) throws(EngineError) -> [[Float]] in
            defer { w.finish() }
            return try forward(items, allPositions: allPositions, trace: trace, scratch: w)
        }
    }

    private func forward(_ items: [ForwardItem], allPositions: Bool, trace: TraceHook?, scratch w: TransformerScratch)
        throws(EngineError) -> [[Float]]
    {
        // Where each row of the batch comes from.
        for (index, item) in items.enumerated() {
            guard let state = item.state as? KVCacheState, state.layers == layers.count,
                  state.kvHeads == hyper.kvHeadCount, state.headDimension == hyper.headDimension
            else {
                throw .invalidInput("forward: item \(index): expected a state made by this model's makeState")
            }
            try item.check(index: index, seen: &w.seen, vocabulary: embedding.rows)
            for offset in item.tokens.indices {
                w.rowItem.append(index)
                w.rowPosition.append(state.length + offset)
            }
            w.states.append(state)
        }
        let rows = w.rowItem.count
        guard rows > 0 else { return items.map { _ in [] } }
        let n = hyper.embeddingLength
        func emit(_ name: String, _ layer: Int?, _ values: UnsafePointer<Float>, _ count: Int) {
            trace?(TraceEvent(name: name, layer: layer, rows: rows, values: values, count: count))
        }

        let x = w.x.resize(rows * n)
        try embedding.embed(items, width: n, into: x)
        emit("inp_embd", nil, x, rows * n)

        let half = rope.dimensions / 2
        let cos = w.cos.resize(rows * half), sin = w.sin.resize(rows * half)
        for row in 0..<rows { rope.angles(position: w.rowPosition[row], cos: cos + row * half, sin: sin + row * half) }
        let headDim = hyper.headDimension
        let qWidth = hyper.headCount * headDim
        let kvWidth = hyper.kvHeadCount * headDim
        let q = w.q.resize(rows * qWidth), k = w.k.resize(rows * kvWidth), v = w.v.resize(rows * kvWidth)
        let projected = w.projected.resize(rows * n), ffnOut = w.ffnOut.resize(rows * n)

        for (l, layer) in layers.enumerated() {
            layer.attentionNorm.normalize(x, count: rows * n, into: w.normed.reset(rows: rows, columns: n), pool: pool)
            emit("attn_norm", l, w.normed.pointer, rows * n)
            try layer.query.append(w.normed, into: q, to: &w.products, pool: pool)
            try layer.key.append(w.normed, into: k, to: &w.products, pool: pool)
            try layer.value.append(w.normed, into: v, to: &w.products, pool: pool)
            try Linear.run(&w.products, pool: pool)
            if let qn = layer.queryNorm, let kn = layer.keyNorm {
                qn.normalize(q, count: rows * qWidth, into: q, pool: pool)
                kn.normalize(k, count: rows * kvWidth, into: k, pool: pool)
            }
            for row in 0..<rows {
                rope.apply(q + row * qWidth, heads: hyper.headCount, headDimension: headDim,
                           cos: cos + row * half, sin: sin + row * half)
                rope.apply(k + row * kvWidth, heads: hyper.kvHeadCount, headDimension: headDim,
                           cos: cos + row * half, sin: sin + row * half)
            }
            emit("Qcur", l, q, rows * qWidth)
            emit("Kcur", l, k, rows * kvWidth)
            emit("Vcur", l, v, rows * kvWidth)
            for row in 0..<rows {
                w.states[w.rowItem[row]].store(layer: l, position: w.rowPosition[row], keys: k + row * kvWidth,
                                               values: v + row * kvWidth)
            }
            let attended = w.attended.reset(rows: rows, columns: qWidth)
            attended.update(repeating: 0, count: rows * qWidth)
            try attention.attend(query: q, output: attended, items: w.rowItem, positions: w.rowPosition,
                                 caches: w.states, layer: l, scratch: &w.attention, pool: pool)
            emit("kqv_out", l, attended, rows * qWidth)
            try layer.attentionOutput.append(w.attended, into: projected, to: &w.products, pool: pool)
            try Linear.run(&w.products, pool: pool)
            emit("attn_out", l, projected, rows * n)
            for i in 0..<(rows * n) { x[i] += projected[i] }
            emit("ffn_inp", l, x, rows * n)
            layer.feedForwardNorm.normalize(x, count: rows * n, into: w.ffnInput.reset(rows: rows, columns: n),
                                            pool: pool)
            emit("ffn_norm", l, w.ffnInput.pointer, rows * n)
            switch layer.feedForward {
            case let .dense(mlp):
                try mlp(w.ffnInput, into: ffnOut, scratch: w.mlp, pool: pool,
                        trace: trace == nil ? nil : { name, values in emit(name, l, values, values.count) })
            case let .experts(moe):
                try moe(w.ffnInput, into: ffnOut, scratch: w.experts, pool: pool,
                        trace: trace == nil ? nil : { name, _, values in emit(name, l, values, values.count) })
            }
            emit("ffn_out", l, ffnOut, rows * n)
            for i in 0..<(rows * n) { x[i] += ffnOut[i] }
            emit("l_out", l, x, rows * n)
        }
        for (index, item) in items.enumerated() { w.states[index].advance(by: item.tokens.count) }

        return try OutputHead.logits(x, width: n, items: items, allPositions: allPositions, norm: outputNorm,
                                     output: output, scratch: w.head, pool: pool, trace: trace)
    }
}
