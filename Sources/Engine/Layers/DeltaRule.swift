import Foundation

/// The gated delta rule of Gated DeltaNet (REFERENCE.md §3.4) for one sequence, per value head j with state
/// S_j `// (dk, dv)`: S ← e^g S; S += k (β (v − Sᵀk))ᵀ; o = Sᵀq. Two forms that agree to rounding:
/// - recurrent, one token at a time (transformers' `torch_recurrent_gated_delta_rule`), used for decode;
/// - chunked, the WY / UT-transform form of transformers' `torch_chunk_gated_delta_rule`, used for prefill.
///
/// Heads are independent and each runs the same fixed-order loops, so spreading them over threads (done when the
/// work is large) never changes a bit of the result.
struct DeltaRule: Sendable {
    let heads: Int
    let keyDimension: Int
    let valueDimension: Int

    /// One sequence's inputs for a run of tokens, in one buffer: q and k `// (tokens, heads, dk)` (L2-normalised,
    /// q scaled by 1/√dk, key heads already repeated per value head), v `// (tokens, heads, dv)`, β and g
    /// `// (tokens, heads)`.
    struct Inputs {
        var storage: [Float]
        let tokens: Int
        let q: Int, k: Int, v: Int, beta: Int, g: Int

        init(tokens: Int, heads: Int, keyDimension dk: Int, valueDimension dv: Int) {
            self.tokens = tokens
            q = 0
            k = tokens * heads * dk
            v = 2 * tokens * heads * dk
            beta = v + tokens * heads * dv
            g = beta + tokens * heads
            storage = [Float](repeating: 0, count: g + tokens * heads)
        }
    }

    /// Runs `inputs` (tokens at absolute positions `start…`) through the state, writing `heads × dv` outputs per
    /// token to `output` from row `outputRow`. One token uses the recurrent form; more use the chunked form in
    /// chunks that end at absolute multiples of `chunkLength`, so a prefix computed in an earlier call, or restored
    /// from a snapshot at a boundary, gives exactly what one long call gives.
    func run(_ inputs: Inputs, start: Int, chunkLength: Int, state: inout [Float], output: inout [Float],
             outputRow: Int)
    {
        let hk = heads * keyDimension, hv = heads * valueDimension
        inputs.storage.withUnsafeBufferPointer { buffer in
            state.withUnsafeMutableBufferPointer { state in
                output.withUnsafeMutableBufferPointer { output in
                    guard let base = buffer.baseAddress, let state = state.baseAddress,
                          let output = output.baseAddress
                    else { return }
                    let out = output + outputRow * hv
                    if inputs.tokens == 1 {
                        recurrent(q: base + inputs.q, k: base + inputs.k, v: base + inputs.v,
                                  beta: base + inputs.beta, g: base + inputs.g, state: state, output: out)
                        return
                    }
                    var offset = 0
                    while offset < inputs.tokens {
                        let length = min(inputs.tokens - offset, chunkLength - (start + offset) % chunkLength)
                        chunk(q: base + inputs.q + offset * hk, k: base + inputs.k + offset * hk,
                              v: base + inputs.v + offset * hv, beta: base + inputs.beta + offset * heads,
                              g: base + inputs.g + offset * heads, tokens: length, state: state,
                              output: out + offset * hv)
                        offset += length
                    }
                }
            }
        }
    }

    /// Runs `body(j)` for every head: on several threads when there is enough work to pay for them. Each head
    /// reads and writes only its own slices, so the result is the same either way.
    private func forEachHead(work: Int, _ body: @Sendable (Int) -> Void) {
        if heads > 1, work >= 1 << 17 {
            DispatchQueue.concurrentPerform(iterations: heads, execute: body)
        } else {
            for j in 0..<heads { body(j) }
        }
    }

    /// The buffers of one call. Heads write disjoint slices of `state` and `output`, which is what makes sharing
    /// them across the threads of `forEachHead` safe.
    private struct Buffers: @unchecked Sendable {
        let q, k, v, beta, g: UnsafePointer<Float>
        let state, output: UnsafeMutablePointer<Float>
    }

    /// One token: per head, decay, m = Sᵀk, δ = β (v − m), S += k δᵀ, o = Sᵀq.
    func recurrent(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                   beta: UnsafePointer<Float>, g: UnsafePointer<Float>, state: UnsafeMutablePointer<Float>,
                   output: UnsafeMutablePointer<Float>)
    {
        let dk = keyDimension, dv = valueDimension
        let b = Buffers(q: q, k: k, v: v, beta: beta, g: g, state: state, output: output)
        forEachHead(work: heads * dk * dv) { j in
            let (q, k, v, beta, g, state, output) = (b.q, b.k, b.v, b.beta, b.g, b.state, b.output)
            let s = state + j * dk * dv, qj = q + j * dk, kj = k + j * dk, vj = v + j * dv
            let o = output + j * dv
            let delta = UnsafeMutablePointer<Float>.allocate(capacity: dv)
            defer { delta.deallocate() }
            let decay = expf(g[j])
            for e in 0..<dv { delta[e] = 0 }
            for i in 0..<dk {
                let row = s + i * dv, ki = kj[i]
                for e in 0..<dv {
                    row[e] *= decay
                    delta[e] += row[e] * ki
                }
            }
            for e in 0..<dv { delta[e] = beta[j] * (vj[e] - delta[e]) }
            for e in 0..<dv { o[e] = 0 }
            for i in 0..<dk {
                let row = s + i * dv, ki = kj[i], qi = qj[i]
                for e in 0..<dv {
                    row[e] += ki * delta[e]
                    o[e] += row[e] * qi
                }
            }
        }
    }

    /// One chunk of `tokens` (REFERENCE.md §3.4), per head: Γ = cumsum g; the strictly lower UT system
    /// −(β_i k_i·k_c) e^{Γi−Γc} solved into T by forward substitution; U = T (βv), W = T (βk ⊙ e^Γ);
    /// V' = U − W S; O_i = e^{Γi} q_i S + Σ_{c≤i} (q_i·k_c) e^{Γi−Γc} V'_c; S ← e^{Γ_L} S + Σ_i e^{Γ_L−Γi} k_i V'_iᵀ.
    func chunk(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
               beta: UnsafePointer<Float>, g: UnsafePointer<Float>, tokens n: Int,
               state: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>)
    {
        let dk = keyDimension, dv = valueDimension, h = heads
        let b = Buffers(q: q, k: k, v: v, beta: beta, g: g, state: state, output: output)
        forEachHead(work: h * n * (n + dk) * dv) { j in
            let (q, k, v, beta, g, state, output) = (b.q, b.k, b.v, b.beta, b.g, b.state, b.output)
            let s = state + j * dk * dv
            // Scratch: Γ (n), T (n, n), U then V' (n, dv), W (n, dk), βk e^Γ (n, dk), βv (n, dv).
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: n + n * n + 2 * n * dv + 2 * n * dk)
            defer { scratch.deallocate() }
            let cum = scratch, t = cum + n, u = t + n * n, vb = u + n * dv, w = vb + n * dv, kb = w + n * dk
            @inline(__always) func qi(_ i: Int) -> UnsafePointer<Float> { q + (i * h + j) * dk }
            @inline(__always) func ki(_ i: Int) -> UnsafePointer<Float> { k + (i * h + j) * dk }
            var running: Float = 0
            for i in 0..<n {
                running += g[i * h + j]
                cum[i] = running
            }
            for i in 0..<n {
                let row = t + i * n
                for c in 0..<n { row[c] = 0 }
                let a = ki(i), b = beta[i * h + j]
                for c in 0..<i {
                    let kc = ki(c)
                    var dot: Float = 0
                    for x in 0..<dk { dot += a[x] * kc[x] }
                    row[c] = -b * dot * expf(cum[i] - cum[c])
                }
            }
            // Forward substitution in place: row i uses rows < i already solved and its own original entries.
            if n > 1 {
                for i in 1..<n {
                    let row = t + i * n
                    for c in 0..<i {
                        var sum = row[c]
                        for m in (c + 1)..<i { sum += row[m] * t[m * n + c] }
                        row[c] = sum
                    }
                }
            }
            for i in 0..<n { t[i * n + i] = 1 }
            for i in 0..<n {
                let e = expf(cum[i]), b = beta[i * h + j], a = ki(i), vi = v + (i * h + j) * dv
                for x in 0..<dk { kb[i * dk + x] = b * a[x] * e }
                for x in 0..<dv { vb[i * dv + x] = b * vi[x] }
            }
            for i in 0..<n {
                let ui = u + i * dv, wi = w + i * dk
                for x in 0..<dv { ui[x] = 0 }
                for x in 0..<dk { wi[x] = 0 }
                for c in 0...i {
                    let tc = t[i * n + c], vc = vb + c * dv, kc = kb + c * dk
                    for x in 0..<dv { ui[x] += tc * vc[x] }
                    for x in 0..<dk { wi[x] += tc * kc[x] }
                }
                // V'_i = U_i − W_i S.
                for x in 0..<dk {
                    let wx = wi[x], row = s + x * dv
                    for e in 0..<dv { ui[e] -= wx * row[e] }
                }
            }
            for i in 0..<n {
                let o = output + i * h * dv + j * dv, qv = qi(i)
                let e = expf(cum[i])
                for y in 0..<dv { o[y] = 0 }
                for x in 0..<dk {
                    let qx = qv[x] * e, row = s + x * dv
                    for y in 0..<dv { o[y] += qx * row[y] }
                }
                for c in 0...i {
                    let kc = ki(c)
                    var dot: Float = 0
                    for x in 0..<dk { dot += qv[x] * kc[x] }
                    let weight = dot * expf(cum[i] - cum[c]), uc = u + c * dv
                    for y in 0..<dv { o[y] += weight * uc[y] }
                }
            }
            let last = cum[n - 1], decay = expf(last)
            for x in 0..<(dk * dv) { s[x] *= decay }
            for i in 0..<n {
                let e = expf(last - cum[i]), a = ki(i), ui = u + i * dv
                for x in 0..<dk {
                    let kx = a[x] * e, row = s + x * dv
                    for y in 0..<dv { row[y] += kx * ui[y] }
                }
            }
        }
    }
}
