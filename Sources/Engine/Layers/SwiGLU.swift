import Foundation
import Kernels

/// silu(x) = x / (1 + e^−x), as ggml_silu_f32, one value (whole rows of silu(a)·b go through `SiLU.multiply`).
@inline(__always) func silu(_ x: Float) -> Float { x / (1 + expf(-x)) }

/// The gated feed-forward block: down · (silu(gate · x) ⊙ (up · x)).
struct SwiGLU: Sendable {
    /// `{n_embd, n_ff}`.
    let gate: Linear
    /// `{n_embd, n_ff}`.
    let up: Linear
    /// `{n_ff, n_embd}`.
    let down: Linear

    /// Reusable buffers of a call: gate and up `// (rows, n_ff)`, the gated product `// (rows, n_ff)`.
    final class Scratch {
        let gate = FloatBuffer(), up = FloatBuffer()
        let hidden = ActivationRows()
        var products = ProductList()
    }

    /// Writes `x.rows × n_embd` outputs to `output`; `trace` receives `ffn_gate`, `ffn_up` and `ffn_swiglu`.
    func callAsFunction(_ x: ActivationRows, into output: UnsafeMutablePointer<Float>, scratch: Scratch,
                        pool: ThreadPool?, trace: ((String, [Float]) -> Void)? = nil) throws(EngineError)
    {
        let rows = x.rows, f = gate.outputs
        let g = scratch.gate.resize(rows * f), u = scratch.up.resize(rows * f)
        try gate.append(x, into: g, to: &scratch.products, pool: pool)
        try up.append(x, into: u, to: &scratch.products, pool: pool)
        try Linear.run(&scratch.products, pool: pool)
        trace?("ffn_gate", scratch.gate.array)
        trace?("ffn_up", scratch.up.array)
        let h = scratch.hidden.reset(rows: rows, columns: f)
        SiLU.multiply(g, by: u, into: h, count: rows * f)
        trace?("ffn_swiglu", scratch.hidden.values)
        try down.append(scratch.hidden, into: output, to: &scratch.products, pool: pool)
        try Linear.run(&scratch.products, pool: pool)
    }
}
