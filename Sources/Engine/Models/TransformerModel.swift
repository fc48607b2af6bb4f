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
        try KVCacheState(layers: layers.count, width: hyper.kvHeadCount * hyper.headDimension, capacity: capacity)
    }

    public func forward(_ items: [ForwardItem], allPositions: Bool) throws(EngineError) -> [[Float]] {
        try forward(items, allPositions: allPositions, trace: nil)
    }

    /// `forward`, reporting every named intermediate result to `trace` (rows are the tokens of all items, in
    /// order).
    public func forward(_ items: [ForwardItem], allPositions: Bool, trace: TraceHook?) throws(EngineError) -> [[Float]] {
        // Where each row of the batch comes from.
        var states: [KVCacheState] = []
        var rowItem: [Int] = []
        var rowPosition: [Int] = []
        var seen = Set<ObjectIdentifier>()
        for (index, item) in items.enumerated() {
            guard let state = item.state as? KVCacheState, state.layers == layers.count else {
                throw .invalidInput("forward: item \(index): expected a state made by this model's makeState")
            }
            guard seen.insert(ObjectIdentifier(state)).inserted else {
                throw .invalidInput("forward: item \(index): expected each sequence state at most once per call")
            }
            guard state.length + item.tokens.count <= state.capacity else {
                throw .invalidInput("forward: item \(index): \(state.length) + \(item.tokens.count) tokens exceed the "
                                    + "state's capacity of \(state.capacity)")
            }
            for (offset, token) in item.tokens.enumerated() {
                guard token >= 0, Int(token) < embedding.rows else {
                    throw .invalidInput("forward: item \(index): token id \(token) is outside the vocabulary 0..<\(embedding.rows)")
                }
                rowItem.append(index)
                rowPosition.append(state.length + offset)
            }
            states.append(state)
        }
        let rows = rowItem.count
        guard rows > 0 else { return items.map { _ in [] } }
        let n = hyper.embeddingLength
        func emit(_ name: String, _ layer: Int?, _ values: [Float]) {
            trace?(TraceEvent(name: name, layer: layer, rows: rows, columns: values.count / rows, values: values))
        }

        var x = [Float]()
        x.reserveCapacity(rows * n)
        for item in items {
            for token in item.tokens {
                do {
                    x.append(contentsOf: try Dequantizer.dequantize(embedding, row: Int(token)))
                } catch {
                    throw .tensor(name: embedding.name, reason: error.description)
                }
            }
        }
        emit("inp_embd", nil, x)

        let angles = rowPosition.map { rope.angles(position: $0) }
        let headDim = hyper.headDimension
        let qWidth = hyper.headCount * headDim
        let kvWidth = hyper.kvHeadCount * headDim
        var attentionScratch = GroupedQueryAttention.Scratch()

        for (l, layer) in layers.enumerated() {
            let normed = ActivationRows(layer.attentionNorm(x), rows: rows)
            emit("attn_norm", l, normed.values)
            let qkv = try Linear.apply([(layer.query, normed), (layer.key, normed), (layer.value, normed)], pool: pool)
            var q = qkv[0]
            var k = qkv[1]
            let v = qkv[2]
            if let qn = layer.queryNorm, let kn = layer.keyNorm {
                qn.apply(&q)
                kn.apply(&k)
            }
            q.withUnsafeMutableBufferPointer { qb in
                k.withUnsafeMutableBufferPointer { kb in
                    guard let qp = qb.baseAddress, let kp = kb.baseAddress else { return }
                    for row in 0..<rows {
                        rope.apply(qp + row * qWidth, heads: hyper.headCount, headDimension: headDim,
                                   cos: angles[row].cos, sin: angles[row].sin)
                        rope.apply(kp + row * kvWidth, heads: hyper.kvHeadCount, headDimension: headDim,
                                   cos: angles[row].cos, sin: angles[row].sin)
                    }
                }
            }
            emit("Qcur", l, q)
            emit("Kcur", l, k)
            emit("Vcur", l, v)
            for row in 0..<rows {
                let state = states[rowItem[row]]
                let kDest = state.key(layer: l, position: rowPosition[row])
                let vDest = state.value(layer: l, position: rowPosition[row])
                for i in 0..<kvWidth {
                    kDest[i] = k[row * kvWidth + i]
                    vDest[i] = v[row * kvWidth + i]
                }
            }
            var attended = [Float](repeating: 0, count: rows * qWidth)
            try q.withUnsafeBufferPointer { qb throws(EngineError) in
                try attended.withUnsafeMutableBufferPointer { ab throws(EngineError) in
                    guard let qp = qb.baseAddress, let ap = ab.baseAddress else { return }
                    try attention.attend(query: qp, output: ap, items: rowItem, positions: rowPosition, caches: states,
                                         layer: l, scratch: &attentionScratch, pool: pool)
                }
            }
            emit("kqv_out", l, attended)
            let projected = try layer.attentionOutput(ActivationRows(attended, rows: rows), pool: pool)
            emit("attn_out", l, projected)
            for i in x.indices { x[i] += projected[i] }
            emit("ffn_inp", l, x)
            let ffnInput = ActivationRows(layer.feedForwardNorm(x), rows: rows)
            emit("ffn_norm", l, ffnInput.values)
            let ffnOut: [Float]
            switch layer.feedForward {
            case let .dense(mlp):
                ffnOut = try mlp(ffnInput, pool: pool, trace: trace == nil ? nil : { name, values in emit(name, l, values) })
            case let .experts(moe):
                ffnOut = try moe(ffnInput, pool: pool, trace: trace == nil ? nil : { name, _, values in emit(name, l, values) })
            }
            emit("ffn_out", l, ffnOut)
            for i in x.indices { x[i] += ffnOut[i] }
            emit("l_out", l, x)
        }
        for (index, item) in items.enumerated() { states[index].advance(by: item.tokens.count) }

        return try OutputHead.logits(x, width: n, tokenCounts: items.map(\.tokens.count), allPositions: allPositions,
                                     norm: outputNorm, output: output, pool: pool, trace: trace)
    }
}
