import Foundation
import Kernels

/// The Gated DeltaNet (linear attention) mixer of qwen3next, following transformers' `Qwen3NextGatedDeltaNet`
/// (the reference our tests compare with) and llama.cpp `src/models/qwen3next.cpp` (tensor names and layouts);
/// the equations are REFERENCE.md §3.4.
///
/// Per token: u = W_qkv·x → causal depthwise conv (kernel K, rolling state) → SiLU → q, k (L2-normalised; q also
/// scaled by 1/√dk) and v; β = sigmoid(b), g = ssm_a · softplus(a + dt_bias); per value head the delta rule
/// S ← e^g S; S += k (β (v − Sᵀk))ᵀ; o = Sᵀq; then RMSNorm(o) ⊙ w ⊙ silu(z) and the output projection.
///
/// The delta rule itself (`DeltaRule`) has two forms: recurrent for one token (decode), chunked for prefill.
/// Everything after the projections is a loop over one sequence in a fixed order, so an item's result never depends
/// on the other items of the batch.
struct GatedDeltaNet: Sendable {
    /// How the file stores the input projection (both layouts the converter has produced, REFERENCE.md §2.3).
    enum InputProjection: Sendable {
        /// `attn_qkv` `{n_embd, 2·keyDim + valueDim}` (rows [q | k | v]) and `attn_gate` `{n_embd, valueDim}` (z).
        case split(qkv: Linear, gate: Linear)
        /// Legacy `ssm_in` `{n_embd, 2·keyDim + 2·valueDim}`: HF's `in_proj_qkvz`, per key head g the rows
        /// [q_g (dk) | k_g (dk) | v_g (r·dv) | z_g (r·dv)].
        case fused(Linear)
    }

    let input: InputProjection
    /// `ssm_ba` `{n_embd, 2·valueHeads}`: per key head g, [b_g (r) | a_g (r)].
    let betaAlpha: Linear
    /// `ssm_conv1d` `{kernel, convChannels}` transposed to `// (kernel, convChannels)`, oldest tap first, so the conv
    /// runs along the channels (contiguous in both the weights and the inputs).
    let convTaps: [Float]
    /// `ssm_dt.bias` `{valueHeads}`.
    let dtBias: [Float]
    /// `ssm_a` `{valueHeads}` = −exp(A_log).
    let a: [Float]
    /// `ssm_norm` `{valueDim}`: the gated RMSNorm's weight (no +1), shared by all heads.
    let norm: RMSNorm
    /// `ssm_out` `{valueHeads·valueDim, n_embd}`.
    let output: Linear

    let keyHeads: Int
    let valueHeads: Int
    /// dk and dv.
    let keyDimension: Int
    let valueDimension: Int
    let kernel: Int

    /// `convWeight` is the file's `ssm_conv1d` `// (convChannels, kernel)`, oldest tap first.
    init(input: InputProjection, betaAlpha: Linear, convWeight: [Float], dtBias: [Float], a: [Float], norm: RMSNorm,
         output: Linear, keyHeads: Int, valueHeads: Int, keyDimension: Int, valueDimension: Int, kernel: Int)
    {
        self.input = input
        self.betaAlpha = betaAlpha
        let channels = convWeight.count / max(kernel, 1)
        var taps = [Float](repeating: 0, count: convWeight.count)
        for ch in 0..<channels {
            for i in 0..<kernel { taps[i * channels + ch] = convWeight[ch * kernel + i] }
        }
        convTaps = taps
        self.dtBias = dtBias
        self.a = a
        self.norm = norm
        self.output = output
        self.keyHeads = keyHeads
        self.valueHeads = valueHeads
        self.keyDimension = keyDimension
        self.valueDimension = valueDimension
        self.kernel = kernel
    }

    /// Prefill chunk length of the WY form; chunks are aligned to absolute positions.
    static let chunkLength = 64

    var keyWidth: Int { keyHeads * keyDimension }
    var valueWidth: Int { valueHeads * valueDimension }
    var convChannels: Int { 2 * keyWidth + valueWidth }
    /// Floats of conv state and delta-rule state per sequence.
    var convStateFloats: Int { (kernel - 1) * convChannels }
    var deltaStateFloats: Int { valueHeads * keyDimension * valueDimension }

    /// Reusable buffers of a call, per row of the batch: u = [q | k | v] `// (rows, convChannels)`, z
    /// `// (rows, valueWidth)`, ba `// (rows, 2·valueHeads)`, the legacy fused projection, the conv's history and
    /// sums, the delta rule's inputs and items, and its output (the output projection's input).
    final class Scratch {
        let u = FloatBuffer(), z = FloatBuffer(), ba = FloatBuffer(), fused = FloatBuffer()
        let history = FloatBuffer(), sums = FloatBuffer()
        var inputs = DeltaRule.Inputs(tokens: 0, heads: 0, keyDimension: 0, valueDimension: 0)
        var items: [DeltaRule.Item] = []
        let core = ActivationRows()
        var products = ProductList()
    }

    /// Per token of the batch: u, z and ba into the scratch, the projections in one pool job (each equal to its
    /// own call bit for bit).
    private func project(_ x: ActivationRows, scratch s: Scratch, pool: ThreadPool?) throws(EngineError) {
        let rows = x.rows
        let u = s.u.resize(rows * convChannels), z = s.z.resize(rows * valueWidth)
        try betaAlpha.append(x, into: s.ba.resize(rows * 2 * valueHeads), to: &s.products, pool: pool)
        switch input {
        case let .split(qkv, gate):
            try qkv.append(x, into: u, to: &s.products, pool: pool)
            try gate.append(x, into: z, to: &s.products, pool: pool)
            try Linear.run(&s.products, pool: pool)
        case let .fused(linear):
            let r = valueHeads / keyHeads
            let dk = keyDimension, groupV = r * valueDimension
            let group = 2 * dk + 2 * groupV
            let width = group * keyHeads
            let fused = s.fused.resize(rows * width)
            try linear.append(x, into: fused, to: &s.products, pool: pool)
            try Linear.run(&s.products, pool: pool)
            for row in 0..<rows {
                let src = row * width, uRow = row * convChannels, zRow = row * valueWidth
                for g in 0..<keyHeads {
                    let f = fused + src + g * group
                    (u + uRow + g * dk).update(from: f, count: dk)
                    (u + uRow + keyWidth + g * dk).update(from: f + dk, count: dk)
                    (u + uRow + 2 * keyWidth + g * groupV).update(from: f + 2 * dk, count: groupV)
                    (z + zRow + g * groupV).update(from: f + 2 * dk + groupV, count: groupV)
                }
            }
        }
    }

    /// Runs the rows of the batch through the mixer; `spans[i]` is item i's rows (consecutive, in position order,
    /// starting at position `starts[i]`) and `states[i]` its sequence state, whose recurrent entry `ordinal` (this
    /// layer's) is updated in place. Writes rows × n_embd to `result`.
    func callAsFunction(_ x: ActivationRows, spans: [Range<Int>], starts: [Int], states: [HybridSequenceState],
                        ordinal: Int, into result: UnsafeMutablePointer<Float>, scratch s: Scratch,
                        pool: ThreadPool?) throws(EngineError)
    {
        try project(x, scratch: s, pool: pool)
        let u = s.u.pointer, z = s.z.pointer, ba = s.ba.pointer
        let rule = DeltaRule(heads: valueHeads, keyDimension: keyDimension, valueDimension: valueDimension)
        // The whole batch's delta-rule inputs in one buffer, row r for input row r.
        s.inputs.reset(tokens: x.rows, heads: valueHeads, keyDimension: keyDimension, valueDimension: valueDimension)
        for (item, span) in spans.enumerated() where !span.isEmpty {
            states[item].recurrent[ordinal].conv.withUnsafeMutableBufferPointer { state in
                convolve(u, span: span, state: state, scratch: s)
            }
            prepare(u, ba: ba, span: span, into: &s.inputs)
        }
        let core = s.core.reset(rows: x.rows, columns: valueWidth)
        core.update(repeating: 0, count: x.rows * valueWidth)
        s.items.removeAll(keepingCapacity: true)
        withDeltaStates(states, spans: spans, starts: starts, from: 0, ordinal: ordinal, items: &s.items) { items in
            rule.run(s.inputs, items: items, chunkLength: Self.chunkLength, output: core, pool: pool)
        }
        // Gated RMSNorm per value head: RMSNorm(o) ⊙ w ⊙ silu(z).
        norm.normalize(core, count: x.rows * valueWidth, into: core, pool: pool)
        SiLU.multiply(z, by: core, into: core, count: x.rows * valueWidth)  // core · silu(z): the same product
        try output.append(s.core, into: result, to: &s.products, pool: pool)
        try Linear.run(&s.products, pool: pool)
    }

    /// Calls `body` with one delta-rule item per non-empty span, its state pointer held open for the call (one
    /// nested access per item; the states are distinct objects, `forward` checks it).
    private func withDeltaStates(_ states: [HybridSequenceState], spans: [Range<Int>], starts: [Int], from index: Int,
                                 ordinal: Int, items: inout [DeltaRule.Item], _ body: ([DeltaRule.Item]) -> Void)
    {
        guard index < spans.count else { return body(items) }
        guard !spans[index].isEmpty else {
            return withDeltaStates(states, spans: spans, starts: starts, from: index + 1, ordinal: ordinal, items: &items,
                                   body)
        }
        states[index].recurrent[ordinal].delta.withUnsafeMutableBufferPointer { state in
            guard let state = state.baseAddress else { return }
            items.append(DeltaRule.Item(rows: spans[index], start: starts[index], state: state))
            withDeltaStates(states, spans: spans, starts: starts, from: index + 1, ordinal: ordinal, items: &items,
                                   body)
        }
    }

    /// The causal depthwise conv + SiLU over one item's rows of u, in place, continuing from (and updating) its
    /// conv state `// (kernel − 1, convChannels)`: row t's channel ch becomes silu(Σ_i w[ch, i] · in_{t−K+1+i}[ch]).
    private func convolve(_ u: UnsafeMutablePointer<Float>, span: Range<Int>, state: UnsafeMutableBufferPointer<Float>,
                          scratch: Scratch)
    {
        let c = convChannels, history = kernel - 1, count = span.count
        guard let previous = state.baseAddress else { return }
        // Inputs in time order: the history rows, then this call's (overwritten with outputs as we go, so the
        // last `history` inputs are saved first for the next call).
        let rows = u + span.lowerBound * c
        let saved = scratch.history.resize(max(history + count, 1) * c)
        saved.update(from: previous, count: history * c)
        (saved + history * c).update(from: rows, count: count * c)
        if history > 0 { previous.update(from: saved + count * c, count: history * c) }
        // One running sum per channel, taps in order (the same additions as a per-channel loop), then SiLU.
        let sums = scratch.sums.resize(c)
        convTaps.withUnsafeBufferPointer { taps in
            guard let w = taps.baseAddress else { return }
            for t in 0..<count {
                sums.update(repeating: 0, count: c)
                for i in 0..<kernel {
                    let tap = w + i * c, input = saved + (t + i) * c
                    for ch in 0..<c { sums[ch] += tap[ch] * input[ch] }
                }
                let out = rows + t * c
                for ch in 0..<c { out[ch] = silu(sums[ch]) }
            }
        }
    }

    /// Writes one item's rows of the delta rule's inputs from its conv output: per value head q, k (L2-normalised
    /// as transformers' `l2norm`, q scaled by 1/√dk, key head j / r serving value head j), v, β = sigmoid(b) and
    /// g = ssm_a · softplus(a + dt_bias).
    private func prepare(_ conv: UnsafeMutablePointer<Float>, ba: UnsafePointer<Float>, span: Range<Int>,
                         into inputs: inout DeltaRule.Inputs)
    {
        let c = convChannels, dk = keyDimension, dv = valueDimension
        let hv = valueHeads, r = valueHeads / keyHeads, kw = keyWidth
        let scale = 1 / Float(dk).squareRoot()
        let (qo, ko, vo, bo, go) = (inputs.q, inputs.k, inputs.v, inputs.beta, inputs.g)
        inputs.storage.withUnsafeMutableBufferPointer { buffer in
            guard let out = buffer.baseAddress else { return }
            for t in span {
                let row = conv + t * c
                for kh in 0..<keyHeads {
                    // transformers' l2norm: x · rsqrt(Σx² + 1e-6).
                    let qh = row + kh * dk, kk = row + kw + kh * dk
                    var qs: Float = 0, ks: Float = 0
                    for i in 0..<dk {
                        qs += qh[i] * qh[i]
                        ks += kk[i] * kk[i]
                    }
                    let qn = 1 / (qs + 1e-6).squareRoot(), kn = 1 / (ks + 1e-6).squareRoot()
                    for j in (kh * r)..<((kh + 1) * r) {
                        let dst = (t * hv + j) * dk
                        for i in 0..<dk {
                            out[qo + dst + i] = qh[i] * qn * scale
                            out[ko + dst + i] = kk[i] * kn
                        }
                    }
                }
                (out + vo + t * hv * dv).update(from: row + 2 * kw, count: hv * dv)
                let baRow = t * 2 * hv
                for j in 0..<hv {
                    let group = j / r, lane = j % r
                    let b = ba[baRow + group * 2 * r + lane]
                    let alpha = ba[baRow + group * 2 * r + r + lane]
                    out[bo + t * hv + j] = 1 / (1 + expf(-b))
                    out[go + t * hv + j] = a[j] * softplus(alpha + dtBias[j])
                }
            }
        }
    }

    /// softplus as torch computes it: x itself above 20.
    private func softplus(_ x: Float) -> Float { x > 20 ? x : log1pf(expf(x)) }
}
