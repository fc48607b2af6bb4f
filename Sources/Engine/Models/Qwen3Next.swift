import GGUF
import Kernels

/// `qwen3next` (Qwen3-Coder-Next), following llama.cpp `src/models/qwen3next.cpp` (tensor names, shapes, hyper-
/// parameter keys) and transformers' `Qwen3NextForCausalLM` (the reference of our fidelity tests). A hybrid stack:
/// Gated DeltaNet (linear attention) layers and gated full-attention layers — by default three of the first, then
/// one of the second, repeated — each followed by a sparse MoE block with a shared expert:
///
///     h = x + Mixer(RMSNorm(x; attn_norm));   x = h + MoE(RMSNorm(h; post_attention_norm)) + γ·Shared(…)
///
/// The converter already adds HF's +1 to every RMSNorm weight except the gated norm (`ssm_norm`), so all norms here
/// are plain multiplicative ones (REFERENCE.md §2.3). Routing is softmax → top-k → renormalised, as both references
/// do for this architecture.
enum Qwen3Next {
    static let architecture = "qwen3next"

    /// The `qwen3next.*` keys beyond the common ones: linear-attention sizes and which layers are recurrent.
    struct LinearParameters: Sendable {
        /// `ssm.conv_kernel`, `ssm.state_size` (dk = dv), `ssm.group_count` (key heads), `ssm.time_step_rank`
        /// (value heads).
        var kernel: Int, stateSize: Int, keyHeads: Int, valueHeads: Int
        /// Per layer: true for a Gated DeltaNet layer (`attention.recurrent_layers`, else
        /// `(i + 1) % full_attention_interval != 0`).
        var recurrent: [Bool]
        /// `expert_shared_feed_forward_length`.
        var sharedFeedForward: Int

        init(_ metadata: GGUFMetadata, layers: Int, path: String) throws(EngineError) {
            let a = Qwen3Next.architecture
            func key(_ name: String) throws(EngineError) -> Int {
                do { return try metadata.integer("\(a).\(name)") } catch { throw .model(path: path, reason: "\(error)") }
            }
            kernel = try key("ssm.conv_kernel")
            stateSize = try key("ssm.state_size")
            keyHeads = try key("ssm.group_count")
            valueHeads = try key("ssm.time_step_rank")
            let inner = try key("ssm.inner_size")
            guard kernel > 0, stateSize > 0, keyHeads > 0, valueHeads > 0, valueHeads % keyHeads == 0,
                  inner == stateSize * valueHeads
            else {
                throw .model(path: path, reason: "\(a).ssm.*: expected positive sizes, time_step_rank (\(valueHeads)) a "
                             + "multiple of group_count (\(keyHeads)) and inner_size (\(inner)) = state_size × "
                             + "time_step_rank (\(stateSize * valueHeads))")
            }
            if let array = metadata["\(a).attention.recurrent_layers"]?.arrayValue {
                // Booleans as llama.cpp writes them; 0/1 integers are accepted too.
                let flags: [Bool] = (0..<array.count).compactMap { i in
                    switch array.element(i) {
                    case let .bool(flag)?: flag
                    case let value?: value.integerValue.map { $0 != 0 }
                    case nil: nil
                    }
                }
                guard flags.count == array.count, flags.count >= layers else {
                    throw .model(path: path, reason: "\(a).attention.recurrent_layers: expected \(layers) booleans, "
                                 + "found \(array.count) values of type \(array.elementType)")
                }
                recurrent = Array(flags.prefix(layers))
            } else {
                let interval = (metadata["\(a).full_attention_interval"]?.integerValue) ?? 4
                guard interval > 0 else {
                    throw .model(path: path, reason: "\(a).full_attention_interval: expected a positive interval, found \(interval)")
                }
                recurrent = (0..<layers).map { ($0 + 1) % interval != 0 }
            }
            sharedFeedForward = metadata["\(a).expert_shared_feed_forward_length"]?.integerValue ?? 0
        }
    }

    static func load(_ source: TensorSource, _ h: HyperParameters, name: String, pool: ThreadPool?)
        throws(EngineError) -> Qwen3NextModel
    {
        guard h.expertCount > 0, h.expertUsedCount > 0, h.expertUsedCount <= h.expertCount,
              h.expertFeedForwardLength > 0
        else {
            throw .model(path: source.path, reason: "qwen3next: expected expert_count ≥ expert_used_count > 0 and "
                         + "expert_feed_forward_length > 0, found \(h.expertCount), \(h.expertUsedCount), "
                         + "\(h.expertFeedForwardLength)")
        }
        let linear = try LinearParameters(source.file.metadata, layers: h.layerCount, path: source.path)
        let rope = RoPE(style: .neox, dimensions: h.ropeDimensions, base: h.ropeBase)
        var layers: [Qwen3NextModel.Layer] = []
        var attentionCount = 0, linearCount = 0
        var deltaNet: GatedDeltaNet?
        for i in 0..<h.layerCount {
            let p = "blk.\(i)."
            let mixer: Qwen3NextModel.Mixer
            if linear.recurrent[i] {
                let net = try gatedDeltaNet(source, h, linear, prefix: p)
                deltaNet = net
                mixer = .linear(net, ordinal: linearCount)
                linearCount += 1
            } else {
                mixer = .attention(try gatedAttention(source, h, rope: rope, prefix: p), ordinal: attentionCount)
                attentionCount += 1
            }
            guard case let .experts(moe) = try DecoderWeights.expertFeedForward(source, h, index: i, normalizeTopK: true)
            else { throw .model(path: source.path, reason: "qwen3next: expected a MoE block in layer \(i)") }
            layers.append(Qwen3NextModel.Layer(
                attentionNorm: try norm(source, p + "attn_norm.weight", h.embeddingLength, h),
                mixer: mixer,
                postAttentionNorm: try norm(source, p + "post_attention_norm.weight", h.embeddingLength, h),
                experts: moe,
                shared: try sharedExpert(source, h, linear, prefix: p)
            ))
        }
        let (embedding, outputNorm, output) = try DecoderWeights.globals(source, h)
        let f = MemoryLayout<Float>.size
        let recurrentBytes = deltaNet.map { ($0.convStateFloats + $0.deltaStateFloats) * f } ?? 0
        let properties = LanguageModelProperties(
            architecture: h.architecture, name: name, vocabularySize: output.outputs,
            trainedContextLength: h.contextLength,
            cacheBytesPerToken: attentionCount * 2 * h.kvHeadCount * h.headDimension * f,
            fixedStateBytes: linearCount * recurrentBytes
        )
        return Qwen3NextModel(mapping: source.owner, properties: properties, embedding: embedding, layers: layers,
                              outputNorm: outputNorm, output: output, kvWidth: h.kvHeadCount * h.headDimension,
                              kvHeads: h.kvHeadCount, attentionLayers: attentionCount, linearLayers: linearCount,
                              convStateFloats: deltaNet?.convStateFloats ?? 0,
                              deltaStateFloats: deltaNet?.deltaStateFloats ?? 0, pool: pool)
    }

    private static func norm(_ source: TensorSource, _ name: String, _ count: Int, _ h: HyperParameters)
        throws(EngineError) -> RMSNorm
    {
        RMSNorm(weight: try source.vector(name, count: count), epsilon: h.rmsEpsilon)
    }

    private static func linear(_ source: TensorSource, _ name: String, _ columns: Int, _ rows: Int)
        throws(EngineError) -> Linear
    {
        Linear(weight: try source.matrix(name, columns: columns, rows: rows))
    }

    /// A 2-D tensor `{columns, rows}` (or 1-D `{columns}` when rows is 1) dequantized to f32, row after row.
    private static func dense(_ source: TensorSource, _ name: String, columns: Int, rows: Int) throws(EngineError)
        -> [Float]
    {
        if rows == 1, let info = source.file.tensorInfo(named: name), info.dimensions.count == 1 {
            return try source.vector(name, count: columns)
        }
        let matrix = try source.matrix(name, columns: columns, rows: rows)
        var values: [Float] = []
        values.reserveCapacity(columns * rows)
        for row in 0..<rows {
            do {
                values.append(contentsOf: try Dequantizer.dequantize(matrix, row: row))
            } catch {
                throw .tensor(name: name, reason: error.description)
            }
        }
        return values
    }

    private static func gatedDeltaNet(_ source: TensorSource, _ h: HyperParameters, _ l: LinearParameters,
                                      prefix p: String) throws(EngineError) -> GatedDeltaNet
    {
        let n = h.embeddingLength, d = l.stateSize
        let keyWidth = l.keyHeads * d, valueWidth = l.valueHeads * d
        let convChannels = 2 * keyWidth + valueWidth
        let input: GatedDeltaNet.InputProjection
        if source.has(p + "attn_qkv.weight") {
            input = .split(qkv: try linear(source, p + "attn_qkv.weight", n, convChannels),
                           gate: try linear(source, p + "attn_gate.weight", n, valueWidth))
        } else if source.has(p + "ssm_in.weight") {
            input = .fused(try linear(source, p + "ssm_in.weight", n, convChannels + valueWidth))
        } else {
            throw .tensor(name: p + "attn_qkv.weight", reason: "expected attn_qkv + attn_gate, or the legacy ssm_in, "
                          + "for linear-attention layer \(p.dropLast()) in \(source.path); found neither")
        }
        // llama.cpp files name the time-step bias `ssm_dt.bias`; Ollama's `ssm_dt` (REFERENCE.md §2.1).
        let dtName = source.has(p + "ssm_dt.bias") ? p + "ssm_dt.bias" : p + "ssm_dt"
        return GatedDeltaNet(
            input: input,
            betaAlpha: try linear(source, p + "ssm_ba.weight", n, 2 * l.valueHeads),
            convWeight: try dense(source, p + "ssm_conv1d.weight", columns: l.kernel, rows: convChannels),
            dtBias: try source.vector(dtName, count: l.valueHeads),
            a: try source.vector(p + "ssm_a", count: l.valueHeads),
            norm: RMSNorm(weight: try source.vector(p + "ssm_norm.weight", count: d), epsilon: h.rmsEpsilon),
            output: try linear(source, p + "ssm_out.weight", valueWidth, n),
            keyHeads: l.keyHeads, valueHeads: l.valueHeads, keyDimension: d, valueDimension: d, kernel: l.kernel
        )
    }

    private static func gatedAttention(_ source: TensorSource, _ h: HyperParameters, rope: RoPE, prefix p: String)
        throws(EngineError) -> GatedAttention
    {
        let n = h.embeddingLength, d = h.headDimension
        return GatedAttention(
            queryGate: try linear(source, p + "attn_q.weight", n, 2 * h.headCount * d),
            key: try linear(source, p + "attn_k.weight", n, h.kvHeadCount * d),
            value: try linear(source, p + "attn_v.weight", n, h.kvHeadCount * d),
            output: try linear(source, p + "attn_output.weight", h.headCount * d, n),
            queryNorm: try norm(source, p + "attn_q_norm.weight", d, h),
            keyNorm: try norm(source, p + "attn_k_norm.weight", d, h),
            heads: h.headCount, kvHeads: h.kvHeadCount, headDimension: d, rope: rope
        )
    }

    private static func sharedExpert(_ source: TensorSource, _ h: HyperParameters, _ l: LinearParameters,
                                     prefix p: String) throws(EngineError) -> SharedExpert
    {
        let n = h.embeddingLength
        let f = l.sharedFeedForward > 0 ? l.sharedFeedForward : h.feedForwardLength
        return SharedExpert(
            mlp: SwiGLU(gate: try linear(source, p + "ffn_gate_shexp.weight", n, f),
                        up: try linear(source, p + "ffn_up_shexp.weight", n, f),
                        down: try linear(source, p + "ffn_down_shexp.weight", f, n)),
            gate: try dense(source, p + "ffn_gate_inp_shexp.weight", columns: n, rows: 1)
        )
    }
}

/// The qwen3next forward pass (built by `Qwen3Next.load`). Its state is a `HybridSequenceState`.
///
/// Batch invariance: projections go through `Linear` (each output row one kernel call, whatever the batch); the
/// delta rule, the conv, attention and the norms are loops over one sequence in a fixed order; the delta rule's form
/// depends only on the item's own call (one token: recurrent; more: chunked, chunks aligned to absolute positions).
public final class Qwen3NextModel: TraceableLanguageModel, @unchecked Sendable {
    // Immutable after init; the thread pool serialises its own jobs.

    /// What mixes tokens in a layer, with its ordinal among the layers of its kind (the index of its state).
    enum Mixer: Sendable {
        case linear(GatedDeltaNet, ordinal: Int)
        case attention(GatedAttention, ordinal: Int)
    }

    /// One decoder layer: `{n_embd}` norms, the mixer, and the MoE block with its shared expert.
    struct Layer: Sendable {
        let attentionNorm: RMSNorm
        let mixer: Mixer
        let postAttentionNorm: RMSNorm
        let experts: MixtureOfExperts
        let shared: SharedExpert
    }

    public let properties: LanguageModelProperties
    /// `{n_embd, n_vocab}`.
    let embedding: WeightMatrix
    let layers: [Layer]
    let outputNorm: RMSNorm
    /// `{n_embd, n_vocab}`.
    let output: Linear
    let kvWidth: Int, kvHeads: Int, attentionLayers: Int, linearLayers: Int, convStateFloats: Int, deltaStateFloats: Int
    let pool: ThreadPool?
    /// The mapped file every WeightMatrix points into; holding it keeps the mapping alive.
    let mapping: AnyObject
    /// The buffers of a forward call, reused by the next one (no heap allocation per decoded token).
    let scratch = ScratchCache { Qwen3NextScratch() }

    init(mapping: AnyObject, properties: LanguageModelProperties, embedding: WeightMatrix, layers: [Layer],
         outputNorm: RMSNorm, output: Linear, kvWidth: Int, kvHeads: Int, attentionLayers: Int, linearLayers: Int,
         convStateFloats: Int, deltaStateFloats: Int, pool: ThreadPool?)
    {
        self.mapping = mapping
        self.properties = properties
        self.embedding = embedding
        self.layers = layers
        self.outputNorm = outputNorm
        self.output = output
        self.kvWidth = kvWidth
        self.kvHeads = kvHeads
        self.attentionLayers = attentionLayers
        self.linearLayers = linearLayers
        self.convStateFloats = convStateFloats
        self.deltaStateFloats = deltaStateFloats
        self.pool = pool
    }

    public func makeState(capacity: Int) throws(EngineError) -> any SequenceState {
        try HybridSequenceState(attentionLayers: attentionLayers, kvWidth: kvWidth, kvHeads: kvHeads,
                                linearLayers: linearLayers, convFloats: convStateFloats, deltaFloats: deltaStateFloats,
                                capacity: capacity)
    }

    public func forward(_ items: [ForwardItem], allPositions: Bool) throws(EngineError) -> [[Float]] {
        try forward(items, allPositions: allPositions, trace: nil)
    }

    /// `forward`, reporting named intermediate results to `trace` (rows are the tokens of all items, in order).
    public func forward(_ items: [ForwardItem], allPositions: Bool, trace: TraceHook?) throws(EngineError) -> [[Float]] {
        try scratch.withScratch { (w: Qwen3NextScratch) throws(EngineError) -> [[Float]] in
            defer { w.finish() }
            return try forward(items, allPositions: allPositions, trace: trace, scratch: w)
        }
    }

    private func forward(_ items: [ForwardItem], allPositions: Bool, trace: TraceHook?, scratch w: Qwen3NextScratch)
        throws(EngineError) -> [[Float]]
    {
        for (index, item) in items.enumerated() {
            guard let state = item.state as? HybridSequenceState, state.recurrent.count == linearLayers,
                  state.attention.layers == attentionLayers, state.attention.width == kvWidth,
                  state.attention.kvHeads == kvHeads,
                  state.recurrent.allSatisfy({ $0.conv.count == convStateFloats && $0.delta.count == deltaStateFloats })
            else {
                throw .invalidInput("forward: item \(index): expected a state made by this model's makeState")
            }
            try item.check(index: index, seen: &w.seen, vocabulary: embedding.rows)
            w.spans.append(w.rowPosition.count..<(w.rowPosition.count + item.tokens.count))
            w.starts.append(state.length)
            for offset in item.tokens.indices {
                w.rowPosition.append(state.length + offset)
                w.rowCache.append(state.attention)
            }
            w.states.append(state)
        }
        let rows = w.rowPosition.count
        guard rows > 0 else { return items.map { _ in [] } }
        let n = embedding.columns
        func emit(_ name: String, _ layer: Int?, _ values: UnsafePointer<Float>, _ count: Int) {
            trace?(TraceEvent(name: name, layer: layer, rows: rows, values: values, count: count))
        }

        let x = w.x.resize(rows * n)
        try embedding.embed(items, width: n, into: x)
        emit("inp_embd", nil, x, rows * n)

        let mixed = w.mixed.resize(rows * n), ffnOut = w.ffnOut.resize(rows * n)
        let shared = w.sharedOut.resize(rows * n)
        for (l, layer) in layers.enumerated() {
            layer.attentionNorm.normalize(x, count: rows * n, into: w.normed.reset(rows: rows, columns: n), pool: pool)
            emit("attn_norm", l, w.normed.pointer, rows * n)
            switch layer.mixer {
            case let .linear(net, ordinal):
                try net(w.normed, spans: w.spans, starts: w.starts, states: w.states, ordinal: ordinal, into: mixed,
                        scratch: w.deltaNet, pool: pool)
            case let .attention(attention, ordinal):
                try attention(w.normed, positions: w.rowPosition, caches: w.rowCache, layer: ordinal, into: mixed,
                              scratch: w.attention, pool: pool)
            }
            emit("attn_output", l, mixed, rows * n)
            for i in 0..<(rows * n) { x[i] += mixed[i] }
            layer.postAttentionNorm.normalize(x, count: rows * n, into: w.ffnInput.reset(rows: rows, columns: n),
                                              pool: pool)
            emit("attn_post_norm", l, w.ffnInput.pointer, rows * n)
            try layer.experts(w.ffnInput, into: ffnOut, scratch: w.experts, pool: pool,
                              trace: trace == nil ? nil : { name, _, values in emit(name, l, values, values.count) })
            emit("ffn_moe_out", l, ffnOut, rows * n)
            try layer.shared(w.ffnInput, into: shared, scratch: w.shared, pool: pool,
                             trace: trace == nil ? nil : { name, values in emit(name, l, values, values.count) })
            emit("ffn_shexp_gated", l, shared, rows * n)
            for i in 0..<(rows * n) { ffnOut[i] += shared[i] }
            emit("ffn_out", l, ffnOut, rows * n)
            for i in 0..<(rows * n) { x[i] += ffnOut[i] }
            emit("l_out", l, x, rows * n)
        }
        for (index, item) in items.enumerated() { w.states[index].attention.advance(by: item.tokens.count) }

        return try OutputHead.logits(x, width: n, items: items, allPositions: allPositions, norm: outputNorm,
                                     output: output, scratch: w.head, pool: pool, trace: trace)
    }
}
