import Foundation
import Kernels

/// silu(x) = x / (1 + e^−x), as ggml_silu_f32.
@inline(__always) func silu(_ x: Float) -> Float { x / (1 + expf(-x)) }

/// The gated feed-forward block: down · (silu(gate · x) ⊙ (up · x)).
struct SwiGLU: Sendable {
    /// `{n_embd, n_ff}`.
    let gate: Linear
    /// `{n_embd, n_ff}`.
    let up: Linear
    /// `{n_ff, n_embd}`.
    let down: Linear

    /// `x.rows × n_embd` outputs; `trace` receives `ffn_gate`, `ffn_up` and `ffn_swiglu`.
    func callAsFunction(_ x: ActivationRows, pool: ThreadPool?, trace: ((String, [Float]) -> Void)? = nil)
        throws(EngineError) -> [Float]
    {
        let gateUp = try Linear.apply([(gate, x), (up, x)], pool: pool)
        var g = gateUp[0]
        let u = gateUp[1]
        trace?("ffn_gate", g)
        trace?("ffn_up", u)
        for i in g.indices { g[i] = silu(g[i]) * u[i] }
        trace?("ffn_swiglu", g)
        return try down(ActivationRows(g, rows: x.rows), pool: pool)
    }
}
