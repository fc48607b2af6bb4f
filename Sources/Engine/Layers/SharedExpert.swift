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

    /// Reusable buffers of a call: the MLP's, and the gates `// (rows)`.
    final class Scratch {
        let mlp = SwiGLU.Scratch()
        let gates = FloatBuffer()
    }

    /// Writes γ · SwiGLU(x) for every row (rows × n_embd) to `output`. The dot product runs in index order, one row
    /// at a time. `trace` receives llama.cpp's names: `ffn_gate`, `ffn_up`, `ffn_swiglu`, `ffn_shexp`,
    /// `shared_expert_gate`.
    func callAsFunction(_ x: ActivationRows, into y: UnsafeMutablePointer<Float>, scratch: Scratch, pool: ThreadPool?,
                        trace: ((String, [Float]) -> Void)? = nil) throws(EngineError)
    {
        try mlp(x, into: y, scratch: scratch.mlp, pool: pool, trace: trace)
        let width = mlp.down.outputs
        if let trace { trace("ffn_shexp", Array(UnsafeBufferPointer(start: y, count: x.rows * width))) }
        let n = gate.count
        let gates = scratch.gates.resize(x.rows)
        let input = x.pointer
        gate.withUnsafeBufferPointer { gate in
            for row in 0..<x.rows {
                var dot: Float = 0
                for i in 0..<n { dot += gate[i] * input[row * n + i] }
                gates[row] = dot
                let gamma = 1 / (1 + expf(-dot))
                for i in 0..<width { y[row * width + i] *= gamma }
            }
        }
        trace?("shared_expert_gate", scratch.gates.array)
    }
}
