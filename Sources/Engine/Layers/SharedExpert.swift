import Foundation
import Kernels

/// The shared expert of qwen3next's MoE block (transformers' `Qwen3NextSparseMoeBlock`, llama.cpp
/// `build_layer_ffn`; REFERENCE.md §3.5): a SwiGLU MLP every token goes through, scaled by a per-token scalar gate
/// γ = sigmoid(w · x), added to the routed experts' sum.
struct SharedExpert: Sendable {
    /// `ffn_{gate,up,down}_shexp`: `{n_embd, n_ff_shexp}`, `{n_embd, n_ff_shexp}`, `{n_ff_shexp, n_embd}`.
    let mlp: SwiGLU
    /// `ffn_gate_inp_shexp` `{n_embd}` (or `{n_embd, 1}`).
    let gate: [Float]

    /// γ · SwiGLU(x) for every row: rows × n_embd. The dot product runs in index order, one row at a time.
    /// `trace` receives llama.cpp's names: `ffn_gate`, `ffn_up`, `ffn_swiglu`, `ffn_shexp`, `shared_expert_gate`.
    func callAsFunction(_ x: ActivationRows, pool: ThreadPool?, trace: ((String, [Float]) -> Void)? = nil)
        throws(EngineError) -> [Float]
    {
        var y = try mlp(x, pool: pool, trace: trace)
        trace?("ffn_shexp", y)
        let n = gate.count
        let width = y.count / max(x.rows, 1)
        var gates = [Float](repeating: 0, count: x.rows)
        for row in 0..<x.rows {
            var dot: Float = 0
            for i in 0..<n { dot += gate[i] * x.values[row * n + i] }
            gates[row] = dot
            let gamma = 1 / (1 + expf(-dot))
            for i in 0..<width { y[row * width + i] *= gamma }
        }
        trace?("shared_expert_gate", gates)
        return y
    }
}
