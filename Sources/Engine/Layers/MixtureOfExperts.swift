import Foundation
import Kernels

/// The sparse MoE block of qwen3moe (transformers' `Qwen3MoeSparseMoeBlock`, llama.cpp's `build_moe_ffn` with
/// softmax gating): router logits → softmax → top-k (ties to the lower index) → renormalised when the model says
/// so → Σ_k p_k · SwiGLU_{e_k}(x), summed in rank order. Expert weights are read in place from the 3-D tensors.
///
/// Tokens of the whole batch that route to one expert share one pass over its weights, yet every token's result is
/// bit-identical to a batch of one: each output row is its own kernel call, and the weighted sum runs in the
/// token's own rank order.
struct MixtureOfExperts: Sendable {
    /// `{n_embd, n_expert}`.
    let router: Linear
    /// `n_expert` × `{n_embd, n_ff_exp}`.
    let gate: [Linear]
    /// `n_expert` × `{n_embd, n_ff_exp}`.
    let up: [Linear]
    /// `n_expert` × `{n_ff_exp, n_embd}`.
    let down: [Linear]
    /// Experts used per token.
    let topK: Int
    /// Whether the top-k probabilities are divided by their sum.
    let normalizeTopK: Bool

    /// Per token, the chosen experts and their weights, best first.
    func route(_ logits: [Float], rows: Int) -> [[(expert: Int, weight: Float)]] {
        let n = gate.count
        var result: [[(expert: Int, weight: Float)]] = []
        result.reserveCapacity(rows)
        for row in 0..<rows {
            let l = logits[(row * n)..<((row + 1) * n)]
            let maximum = l.max() ?? 0
            var probabilities = l.map { expf($0 - maximum) }
            var sum: Double = 0
            for p in probabilities { sum += Double(p) }
            let inverse = Float(1 / sum)
            for i in probabilities.indices { probabilities[i] *= inverse }
            // Stable: equal probabilities keep index order, so ties go to the lower expert.
            let order = probabilities.indices.sorted { probabilities[$0] > probabilities[$1] || (probabilities[$0] == probabilities[$1] && $0 < $1) }
            var chosen = order.prefix(topK).map { (expert: $0, weight: probabilities[$0]) }
            if normalizeTopK {
                var total: Float = 0
                for c in chosen { total += c.weight }
                for i in chosen.indices { chosen[i].weight /= total }
            }
            result.append(chosen)
        }
        return result
    }

    /// `x.rows × n_embd` outputs; `trace` receives the router's logits.
    func callAsFunction(_ x: ActivationRows, pool: ThreadPool?, trace: ((String, Int, [Float]) -> Void)?)
        throws(EngineError) -> [Float]
    {
        let width = x.values.count / max(x.rows, 1)
        let logits = try router(x, pool: pool)
        trace?("ffn_moe_logits", gate.count, logits)
        let routes = route(logits, rows: x.rows)
        // slotOutputs[row][rank] = the chosen expert's output for that token.
        var slotOutputs = [[[Float]]](repeating: [[Float]](repeating: [], count: topK), count: x.rows)
        var assigned = [[(row: Int, rank: Int)]](repeating: [], count: gate.count)
        for (row, chosen) in routes.enumerated() {
            for (rank, c) in chosen.enumerated() { assigned[c.expert].append((row, rank)) }
        }
        // Every active expert's gate and up in one pool job, then every down in another: one wake-up per phase
        // instead of three per expert, and each expert's weights read once for all the tokens routed to it.
        let active = (0..<gate.count).filter { !assigned[$0].isEmpty }
        var inputs: [ActivationRows] = []
        inputs.reserveCapacity(active.count)
        for expert in active {
            let members = assigned[expert]
            var gathered: [Float] = []
            gathered.reserveCapacity(members.count * width)
            for m in members { gathered.append(contentsOf: x.values[(m.row * width)..<((m.row + 1) * width)]) }
            inputs.append(ActivationRows(gathered, rows: members.count))
        }
        var gateUp: [(Linear, ActivationRows)] = []
        gateUp.reserveCapacity(2 * active.count)
        for (i, expert) in active.enumerated() {
            gateUp.append((gate[expert], inputs[i]))
            gateUp.append((up[expert], inputs[i]))
        }
        let gateUpOut = try Linear.apply(gateUp, pool: pool)
        var downs: [(Linear, ActivationRows)] = []
        downs.reserveCapacity(active.count)
        for (i, expert) in active.enumerated() {
            var g = gateUpOut[2 * i]
            let u = gateUpOut[2 * i + 1]
            for j in g.indices { g[j] = silu(g[j]) * u[j] }
            downs.append((down[expert], ActivationRows(g, rows: inputs[i].rows)))
        }
        let downOut = try Linear.apply(downs, pool: pool)
        for (i, expert) in active.enumerated() {
            let y = downOut[i]
            let outWidth = down[expert].outputs
            for (slot, m) in assigned[expert].enumerated() {
                slotOutputs[m.row][m.rank] = Array(y[(slot * outWidth)..<((slot + 1) * outWidth)])
            }
        }
        var output = [Float](repeating: 0, count: x.rows * width)
        for row in 0..<x.rows {
            for (rank, c) in routes[row].enumerated() {
                let y = slotOutputs[row][rank]
                for i in 0..<width { output[row * width + i] += c.weight * y[i] }
            }
        }
        return output
    }
}
