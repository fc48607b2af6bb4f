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
/// Two forms of the delta rule: `recurrentStep` for one token (decode) and `chunk` (the WY / UT-transform form of
/// transformers' `torch_chunk_gated_delta_rule`) for prefill. They agree to rounding; tests hold them to it.
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
    /// `ssm_conv1d` `{kernel, convChannels}`: `// (convChannels, kernel)`, oldest tap first.
    let convWeight: [Float]
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

    /// Prefill chunk length of the WY form; chunks are aligned to absolute positions.
    static let chunkLength = 64

    var keyWidth: Int { keyHeads * keyDimension }
    var valueWidth: Int { valueHeads * valueDimension }
    var convChannels: Int { 2 * keyWidth + valueWidth }
    /// Floats of conv state and delta-rule state per sequence.
    var convStateFloats: Int { (kernel - 1) * convChannels }
    var deltaStateFloats: Int { valueHeads * keyDimension * valueDimension }

    /// Per token of the batch: u = [q | k | v] (convChannels) and z (valueWidth).
    private func project(_ x: ActivationRows, pool: ThreadPool?) throws(EngineError) -> (u: [Float], z: [Float]) {
        switch input {
        case let .split(qkv, gate):
            return (try qkv(x, pool: pool), try gate(x, pool: pool))
        case let .fused(linear):
            let fused = try linear(x, pool: pool)
            let r = valueHeads / keyHeads
            let dk = keyDimension, groupV = r * valueDimension
            let group = 2 * dk + 2 * groupV
            let width = group * keyHeads
            var u = [Float](repeating: 0, count: x.rows * convChannels)
            var z = [Float](repeating: 0, count: x.rows * valueWidth)
            for row in 0..<x.rows {
                let src = row * width, uRow = row * convChannels, zRow = row * valueWidth
                for g in 0..<keyHeads {
                    let s = src + g * group
                    for i in 0..<dk {
                        u[uRow + g * dk + i] = fused[s + i]
                        u[uRow + keyWidth + g * dk + i] = fused[s + dk + i]
                    }
                    for i in 0..<groupV {
                        u[uRow + 2 * keyWidth + g * groupV + i] = fused[s + 2 * dk + i]
                        z[zRow + g * groupV + i] = fused[s + 2 * dk + groupV + i]
                    }
                }
            }
            return (u, z)
        }
    }

    /// Runs the rows of the batch through the mixer; `spans[i]` is item i's rows (consecutive, in position order,
    /// starting at position `starts[i]`) and `states[i]` its sequence state, whose recurrent entry `ordinal` (this
    /// layer's) is updated in place. Returns rows × n_embd.
    func callAsFunction(_ x: ActivationRows, spans: [Range<Int>], starts: [Int], states: [HybridSequenceState],
                        ordinal: Int, pool: ThreadPool?) throws(EngineError) -> [Float]
    {
        let (u, z) = try project(x, pool: pool)
        let ba = try betaAlpha(x, pool: pool)
        var core = [Float](repeating: 0, count: x.rows * valueWidth)
        for (item, span) in spans.enumerated() where !span.isEmpty {
            let conv = convolve(u, span: span, state: &states[item].recurrent[ordinal].conv)
            let (q, k, v, beta, g) = prepare(conv, ba: ba, span: span)
            let count = span.count
            if count == 1 {
                recurrentStep(q: q, k: k, v: v, beta: beta, g: g, state: &states[item].recurrent[ordinal].delta,
                              output: &core, outputRow: span.lowerBound)
            } else {
                // Chunks end at absolute multiples of chunkLength, so a prefix computed in an earlier call (and a
                // snapshot taken at a boundary) gives exactly what one long call gives.
                var offset = 0
                while offset < count {
                    let position = starts[item] + offset
                    let length = min(count - offset, Self.chunkLength - position % Self.chunkLength)
                    chunk(q: q, k: k, v: v, beta: beta, g: g, range: offset..<(offset + length),
                          state: &states[item].recurrent[ordinal].delta, output: &core, outputRow: span.lowerBound)
                    offset += length
                }
            }
        }
        // Gated RMSNorm per value head: RMSNorm(o) ⊙ w ⊙ silu(z).
        norm.apply(&core)
        for i in core.indices { core[i] *= silu(z[i]) }
        return try output(ActivationRows(core, rows: x.rows), pool: pool)
    }

    /// The causal depthwise conv + SiLU over one item's rows of u, continuing from (and updating) its conv state.
    /// Returns `// (tokens, convChannels)`.
    private func convolve(_ u: [Float], span: Range<Int>, state: inout [Float]) -> [Float] {
        let c = convChannels, history = kernel - 1, count = span.count
        // The previous inputs then this call's: `// (history + count, convChannels)`.
        var window = state
        window.append(contentsOf: u[(span.lowerBound * c)..<(span.upperBound * c)])
        var out = [Float](repeating: 0, count: count * c)
        for t in 0..<count {
            for ch in 0..<c {
                var sum: Float = 0
                for i in 0..<kernel { sum += convWeight[ch * kernel + i] * window[(t + i) * c + ch] }
                out[t * c + ch] = silu(sum)
            }
        }
        if history > 0 { state = Array(window[(count * c)..<((count + history) * c)]) }
        return out
    }

    /// Splits one item's conv output into per-value-head q, k (L2-normalised, q scaled by 1/√dk, each key head
    /// repeated for its r value heads), v, and β, g. Shapes: q, k `// (tokens, valueHeads, dk)`, v `// (tokens,
    /// valueHeads, dv)`, β and g `// (tokens, valueHeads)`.
    private func prepare(_ conv: [Float], ba: [Float], span: Range<Int>)
        -> (q: [Float], k: [Float], v: [Float], beta: [Float], g: [Float])
    {
        let count = span.count, c = convChannels, dk = keyDimension, dv = valueDimension
        let hv = valueHeads, r = valueHeads / keyHeads
        let scale = 1 / Float(dk).squareRoot()
        var q = [Float](repeating: 0, count: count * hv * dk)
        var k = [Float](repeating: 0, count: count * hv * dk)
        var v = [Float](repeating: 0, count: count * hv * dv)
        var beta = [Float](repeating: 0, count: count * hv)
        var g = [Float](repeating: 0, count: count * hv)
        for t in 0..<count {
            let row = t * c
            for kh in 0..<keyHeads {
                // transformers' l2norm: x · rsqrt(Σx² + 1e-6).
                var qs: Float = 0, ks: Float = 0
                for i in 0..<dk {
                    let qi = conv[row + kh * dk + i], ki = conv[row + keyWidth + kh * dk + i]
                    qs += qi * qi
                    ks += ki * ki
                }
                let qn = 1 / (qs + 1e-6).squareRoot(), kn = 1 / (ks + 1e-6).squareRoot()
                for j in (kh * r)..<((kh + 1) * r) {
                    let dst = (t * hv + j) * dk
                    for i in 0..<dk {
                        q[dst + i] = conv[row + kh * dk + i] * qn * scale
                        k[dst + i] = conv[row + keyWidth + kh * dk + i] * kn
                    }
                }
            }
            for i in 0..<(hv * dv) { v[t * hv * dv + i] = conv[row + 2 * keyWidth + i] }
            let baRow = (span.lowerBound + t) * 2 * hv
            for j in 0..<hv {
                let group = j / r, lane = j % r
                let b = ba[baRow + group * 2 * r + lane]
                let alpha = ba[baRow + group * 2 * r + r + lane]
                beta[t * hv + j] = 1 / (1 + expf(-b))
                g[t * hv + j] = a[j] * softplus(alpha + dtBias[j])
            }
        }
        return (q, k, v, beta, g)
    }

    /// softplus as torch computes it: x itself above 20.
    private func softplus(_ x: Float) -> Float { x > 20 ? x : log1pf(expf(x)) }

    /// One token (decode): the delta rule applied once per value head. Writes `valueHeads × dv` outputs at
    /// `outputRow` of `output`.
    func recurrentStep(q: [Float], k: [Float], v: [Float], beta: [Float], g: [Float], state: inout [Float],
                       output: inout [Float], outputRow: Int)
    {
        let dk = keyDimension, dv = valueDimension
        var m = [Float](repeating: 0, count: dv)
        for j in 0..<valueHeads {
            let s = j * dk * dv, qk = j * dk, vo = j * dv
            let decay = expf(g[j])
            for i in 0..<(dk * dv) { state[s + i] *= decay }
            // m = Sᵀk; δ = β (v − m); S += k δᵀ; o = Sᵀq.
            for e in 0..<dv { m[e] = 0 }
            for i in 0..<dk {
                let ki = k[qk + i]
                for e in 0..<dv { m[e] += state[s + i * dv + e] * ki }
            }
            for e in 0..<dv { m[e] = beta[j] * (v[vo + e] - m[e]) }
            for i in 0..<dk {
                let ki = k[qk + i]
                for e in 0..<dv { state[s + i * dv + e] += ki * m[e] }
            }
            let out = outputRow * valueWidth + vo
            for e in 0..<dv { output[out + e] = 0 }
            for i in 0..<dk {
                let qi = q[qk + i]
                for e in 0..<dv { output[out + e] += state[s + i * dv + e] * qi }
            }
        }
    }

    /// The chunked (WY / UT-transform) form over `range` of one item's tokens, per value head (REFERENCE.md §3.4):
    /// Γ = cumsum g; A = −(βk kᵀ ⊙ e^{Γi−Γj}) strictly lower, T = (I − A')⁻¹ by forward substitution;
    /// U = T βv; W = T (βk ⊙ e^Γ); V' = U − W S; O = (q ⊙ e^Γ) S + (q kᵀ ⊙ e^{Γi−Γj})_{j≤i} V';
    /// S ← e^{Γ_L} S + (k ⊙ e^{Γ_L−Γ})ᵀ V'. Outputs go to rows `outputRow + range` of `output`.
    func chunk(q: [Float], k: [Float], v: [Float], beta: [Float], g: [Float], range: Range<Int>,
               state: inout [Float], output: inout [Float], outputRow: Int)
    {
        let dk = keyDimension, dv = valueDimension, hv = valueHeads, n = range.count
        var cum = [Float](repeating: 0, count: n)
        var t = [Float](repeating: 0, count: n * n)        // (n, n): the UT system, then T
        var u = [Float](repeating: 0, count: n * dv)       // (n, dv): U, then V'
        var w = [Float](repeating: 0, count: n * dk)       // (n, dk): W
        var kb = [Float](repeating: 0, count: n * dk)      // (n, dk): β k e^Γ
        var vb = [Float](repeating: 0, count: n * dv)      // (n, dv): β v
        for j in 0..<hv {
            let s = j * dk * dv
            @inline(__always) func qi(_ i: Int) -> Int { ((range.lowerBound + i) * hv + j) * dk }
            @inline(__always) func vi(_ i: Int) -> Int { ((range.lowerBound + i) * hv + j) * dv }
            @inline(__always) func bi(_ i: Int) -> Int { (range.lowerBound + i) * hv + j }
            var running: Float = 0
            for i in 0..<n {
                running += g[bi(i)]
                cum[i] = running
            }
            // The strictly lower UT system, −(β_i k_i·k_j) e^{Γi−Γj}, solved in place by forward substitution.
            for i in 0..<n {
                for c in 0..<n { t[i * n + c] = 0 }
                for c in 0..<i {
                    var dot: Float = 0
                    for x in 0..<dk { dot += k[qi(i) + x] * k[qi(c) + x] }
                    t[i * n + c] = -beta[bi(i)] * dot * expf(cum[i] - cum[c])
                }
            }
            for i in 1..<max(n, 1) {
                for c in 0..<i {
                    var sum = t[i * n + c]
                    for m in (c + 1)..<i { sum += t[i * n + m] * t[m * n + c] }
                    t[i * n + c] = sum
                }
            }
            for i in 0..<n { t[i * n + i] = 1 }
            for i in 0..<n {
                let e = expf(cum[i]), b = beta[bi(i)]
                for x in 0..<dk { kb[i * dk + x] = b * k[qi(i) + x] * e }
                for x in 0..<dv { vb[i * dv + x] = b * v[vi(i) + x] }
            }
            // U = T vb, W = T kb (T is unit lower triangular).
            for i in 0..<n {
                for x in 0..<dv { u[i * dv + x] = 0 }
                for x in 0..<dk { w[i * dk + x] = 0 }
                for c in 0...i {
                    let tc = t[i * n + c]
                    for x in 0..<dv { u[i * dv + x] += tc * vb[c * dv + x] }
                    for x in 0..<dk { w[i * dk + x] += tc * kb[c * dk + x] }
                }
            }
            // V' = U − W S.
            for i in 0..<n {
                for x in 0..<dk {
                    let wx = w[i * dk + x]
                    for e in 0..<dv { u[i * dv + e] -= wx * state[s + x * dv + e] }
                }
            }
            // O_i = e^{Γi} q_i S + Σ_{c≤i} (q_i·k_c) e^{Γi−Γc} V'_c.
            for i in 0..<n {
                let out = (outputRow + range.lowerBound + i) * valueWidth + j * dv
                let e = expf(cum[i])
                for x in 0..<dv { output[out + x] = 0 }
                for x in 0..<dk {
                    let qx = q[qi(i) + x] * e
                    for y in 0..<dv { output[out + y] += qx * state[s + x * dv + y] }
                }
                for c in 0...i {
                    var dot: Float = 0
                    for x in 0..<dk { dot += q[qi(i) + x] * k[qi(c) + x] }
                    let weight = dot * expf(cum[i] - cum[c])
                    for y in 0..<dv { output[out + y] += weight * u[c * dv + y] }
                }
            }
            // S ← e^{Γ_L} S + Σ_i (k_i e^{Γ_L−Γ_i}) V'_iᵀ.
            let last = cum[n - 1], decay = expf(last)
            for x in 0..<(dk * dv) { state[s + x] *= decay }
            for i in 0..<n {
                let e = expf(last - cum[i])
                for x in 0..<dk {
                    let kx = k[qi(i) + x] * e
                    for y in 0..<dv { state[s + x * dv + y] += kx * u[i * dv + y] }
                }
            }
        }
    }
}
