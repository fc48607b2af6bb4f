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

    /// Reusable buffers of a call (sized by the batch and the number of active experts, kept between calls).
    final class Scratch {
        /// Router logits `// (rows, n_expert)` and one row's probabilities `// (n_expert)`.
        let logits = FloatBuffer(), probabilities = FloatBuffer()
        /// Per token, the chosen experts and their weights, best first: `// (rows, topK)`.
        var chosen: [(expert: Int, weight: Float)] = []
        /// The (row, rank) pairs routed to each expert, grouped by expert in expert order, rows in order within
        /// one: expert e's are `members[start[e] ..< start[e] + count[e]]`.
        var count: [Int] = [], start: [Int] = [], cursor: [Int] = [], members: [(row: Int, rank: Int)] = []
        /// Per (row, rank), its index in `members` (the row of `down` holding that expert's output for the token).
        var memberOf: [Int] = []
        /// Experts with at least one token, in increasing order.
        var active: [Int] = []
        /// Per member (in `members` order), its token's row.
        var memberRows: [Int] = []
        /// Per member, its token's quantized row (for gate, and for up when its format differs), gathered in member
        /// order: expert e's tokens are rows start[e] ..< start[e] + count[e].
        var gateInputs = QuantizedActivations(), upInputs = QuantizedActivations()
        /// Per member, its gated hidden row silu(gate) · up `// (members, n_ff_exp)`.
        let hidden = ActivationRows()
        /// The gate outputs of every member, then the up outputs `// (2, members, n_ff_exp)`, and the down outputs
        /// `// (members, n_embd)`.
        let gateUp = FloatBuffer(), down = FloatBuffer()
        var products = ProductList()
    }

    /// Routes every token: `scratch.chosen[row · topK + rank]`, best first. The softmax's e^x is `SiLU.exponential`
    /// (glibc's expf as a CPU with FMA and AVX2 computes it, on any machine: the bits libm gives on this project's
    /// CI, 16 at a time).
    func route(_ logits: UnsafePointer<Float>, rows: Int, scratch: Scratch) {
        let n = gate.count
        let probabilities = scratch.probabilities.resize(n)
        scratch.chosen.removeAll(keepingCapacity: true)
        for row in 0..<rows {
            let l = logits + row * n
            var maximum = -Float.infinity
            for i in 0..<n where l[i] > maximum { maximum = l[i] }
            if n == 0 { maximum = 0 }
            for i in 0..<n { probabilities[i] = l[i] - maximum }
            SiLU.exponential(probabilities, into: probabilities, count: n)
            var sum: Double = 0
            for i in 0..<n { sum += Double(probabilities[i]) }
            let inverse = Float(1 / sum)
            for i in 0..<n { probabilities[i] *= inverse }
            // The top k in order, ties to the lower expert (what a stable sort by probability gives).
            let first = scratch.chosen.count
            if inverse.isFinite {  // then every probability is a finite number ≥ 0: no NaN to order
                Self.appendTopK(probabilities, count: n, k: min(topK, n), to: &scratch.chosen)
            } else {
                Self.appendTopKByRounds(probabilities, count: n, k: min(topK, n), to: &scratch.chosen)
            }
            if normalizeTopK {
                var total: Float = 0
                for c in scratch.chosen[first...] { total += c.weight }
                for i in first..<scratch.chosen.count { scratch.chosen[i].weight /= total }
            }
        }
    }

    /// The first index of the largest value that is not −∞ (taken ones are set to −∞), or −1 when every one is −∞;
    /// any NaN compares as the scalar loop compares it (a NaN at the first eligible index wins).
    static func firstLargestScalar(_ p: UnsafePointer<Float>, count n: Int) -> Int {
        var best = -1
        for i in 0..<n where p[i] != -.infinity && (best < 0 || p[i] > p[best]) { best = i }
        return best
    }

    /// Appends up to `k` picks of `firstLargestScalar` to `chosen`, each taken (set to −∞ in `p`) before the next: the
    /// router's pick whatever the values (NaN and ±∞ included), and what `appendTopK` must equal on finite ones.
    static func appendTopKByRounds(_ p: UnsafeMutablePointer<Float>, count n: Int, k: Int,
                                   to chosen: inout [(expert: Int, weight: Float)]) {
        for _ in 0..<k {
            let best = firstLargestScalar(p, count: n)
            guard best >= 0 else { return }
            chosen.append((best, p[best]))
            p[best] = -.infinity
        }
    }

    /// Appends the `k` largest of `n` finite values (no NaN, no ±∞) to `chosen`, largest first, equal values in index
    /// order: what `appendTopKByRounds` gives. One pass that keeps the best `k` so
    /// far in order (a value enters only if larger than the last kept, and goes behind every kept value it does not
    /// exceed), so each value is compared once instead of `k` times. The k rounds (through a 16-lane search that the
    /// compiler kept in memory) were ~1 µs per pick here: 0.6 ms of an 8-sequence qwen3moe-8l decode step, on the
    /// calling thread alone while the other waited (`perf`, 2026-12-02).
    static func appendTopK(_ p: UnsafePointer<Float>, count n: Int, k: Int,
                           to chosen: inout [(expert: Int, weight: Float)]) {
        guard k > 0 else { return }
        let base = chosen.count
        for i in 0..<n {
            let value = p[i]
            let kept = chosen.count - base
            if kept == k, !(value > chosen[base + k - 1].weight) { continue }
            if kept < k { chosen.append((i, value)) }
            var slot = base + min(kept, k - 1)
            while slot > base, chosen[slot - 1].weight < value {
                chosen[slot] = chosen[slot - 1]
                slot -= 1
            }
            chosen[slot] = (i, value)
        }
    }

    /// Writes `x.rows × n_embd` outputs to `output`; `trace` receives the router's logits.
    func callAsFunction(_ x: ActivationRows, into output: UnsafeMutablePointer<Float>, scratch s: Scratch,
                        pool: ThreadPool?, trace: ((String, Int, [Float]) -> Void)?) throws(EngineError)
    {
        let rows = x.rows, width = x.columns, experts = gate.count
        let logits = s.logits.resize(rows * experts)
        try router.append(x, into: logits, to: &s.products, pool: pool)
        try Linear.run(&s.products, pool: pool)
        trace?("ffn_moe_logits", experts, s.logits.array)
        route(logits, rows: rows, scratch: s)
        let k = min(topK, experts)
        guard s.chosen.count == rows * k else {
            throw .invalidInput("MoE: expected \(k) experts per token, routed \(s.chosen.count) for \(rows) tokens")
        }

        // Group the (row, rank) pairs by expert (a counting sort keeps rows in order within an expert).
        s.count.removeAll(keepingCapacity: true)
        s.count.append(contentsOf: repeatElement(0, count: experts))
        for c in s.chosen { s.count[c.expert] += 1 }
        s.start.removeAll(keepingCapacity: true)
        var total = 0
        for e in 0..<experts {
            s.start.append(total)
            total += s.count[e]
        }
        s.members.removeAll(keepingCapacity: true)
        s.members.append(contentsOf: repeatElement((row: 0, rank: 0), count: total))
        s.memberOf.removeAll(keepingCapacity: true)
        s.memberOf.append(contentsOf: repeatElement(0, count: total))
        s.cursor.removeAll(keepingCapacity: true)
        s.cursor.append(contentsOf: s.start)
        for row in 0..<rows {
            for rank in 0..<k {
                let e = s.chosen[row * k + rank].expert
                s.members[s.cursor[e]] = (row, rank)
                s.memberOf[row * k + rank] = s.cursor[e]
                s.cursor[e] += 1
            }
        }
        s.active.removeAll(keepingCapacity: true)
        for e in 0..<experts where s.count[e] > 0 { s.active.append(e) }
        // Each token's row is quantized once (on the pool) and gathered once per (token, expert) pair into one
        // batch in expert order, so expert e multiplies its run of rows, start[e] ..< start[e] + count[e].
        let gateFormatInput = try x.quantized(for: gate[0].weight, pool: pool)
        let upFormatInput = try x.quantized(for: up[0].weight, pool: pool)
        let sameFormat = gateFormatInput.format == upFormatInput.format
        s.memberRows.removeAll(keepingCapacity: true)
        for m in s.members { s.memberRows.append(m.row) }
        do {
            if total > 0 {
                try s.gateInputs.gather(rows: s.memberRows, from: gateFormatInput)
                if !sameFormat { try s.upInputs.gather(rows: s.memberRows, from: upFormatInput) }
            }
        } catch {
            throw .tensor(name: gate[0].weight.name, reason: error.description)
        }

        // Every active expert's gate and up in one pool job, then every down in another: one wake-up per phase
        // instead of three per expert, and each expert's weights read once for all the tokens routed to it. The
        // gate outputs of all members come first (member order), then the up outputs.
        let f = gate[0].outputs
        let gateUp = s.gateUp.resize(2 * total * f)
        let upOut = gateUp + total * f
        for e in s.active {
            let rows = s.start[e]..<(s.start[e] + s.count[e])
            guard gate[e].outputs == f, up[e].outputs == f else {
                throw .tensor(name: gate[e].weight.name,
                              reason: "expected \(f) outputs as expert 0 has, got \(gate[e].outputs) (gate), "
                                  + "\(up[e].outputs) (up)")
            }
            try gate[e].append(quantized: s.gateInputs, rows: rows, into: gateUp + rows.lowerBound * f, to: &s.products)
            try up[e].append(quantized: sameFormat ? s.gateInputs : s.upInputs, rows: rows,
                             into: upOut + rows.lowerBound * f, to: &s.products)
        }
        try Linear.run(&s.products, pool: pool)

        // The gated hidden rows of every member, silu(gate) · up (elementwise, on the pool), quantized once for the
        // down matrices (row by row, on the pool); the same values on any thread.
        let hidden = s.hidden.reset(rows: total, columns: f)
        SiLU.multiply(gateUp, by: upOut, into: hidden, count: total * f, pool: pool)
        let outWidth = down.first?.outputs ?? width
        let downOut = s.down.resize(total * outWidth)
        if let first = s.active.first {
            let hiddenInput = try s.hidden.quantized(for: down[first].weight, pool: pool)
            for e in s.active {
                let rows = s.start[e]..<(s.start[e] + s.count[e])
                try down[e].append(quantized: hiddenInput, rows: rows, into: downOut + rows.lowerBound * outWidth,
                                   to: &s.products)
            }
        }
        try Linear.run(&s.products, pool: pool)

        // Σ_rank weight · expert output, in the token's rank order, one token per pool task.
        s.chosen.withUnsafeBufferPointer { chosen in
            s.memberOf.withUnsafeBufferPointer { memberOf in
                guard let chosen = chosen.baseAddress, let memberOf = memberOf.baseAddress else { return }
                var sums = WeightedSums(output: output, expertOutputs: downOut, chosen: chosen, memberOf: memberOf,
                                        topK: k, width: width, expertWidth: outWidth)
                withUnsafeMutablePointer(to: &sums) { sums in
                    ThreadPool.run(pool, count: rows, context: UnsafeMutableRawPointer(sums)) { context, row in
                        context?.assumingMemoryBound(to: WeightedSums.self).pointee.sum(row: Int(row))
                    }
                }
            }
        }
    }
}

/// One MoE call's output rows, Σ_rank weight · expert output per token in the token's rank order (a pool task
/// computes one row; the pointers are valid for the layer call). A token's terms were written by both threads' down
/// products, so splitting the rows also splits the reads of the other core's cache (measured 2026-12-01: the serial
/// loop was 0.9 % of an 8-sequence qwen3moe step, most of it waiting for those reads).
struct WeightedSums {
    let output: UnsafeMutablePointer<Float>
    /// The down outputs, `expertWidth` floats per (token, rank) member.
    let expertOutputs: UnsafePointer<Float>
    /// Per token, its `topK` (expert, weight) picks, best first.
    let chosen: UnsafePointer<(expert: Int, weight: Float)>
    /// Per (token, rank), its row of `expertOutputs`.
    let memberOf: UnsafePointer<Int>
    let topK: Int, width: Int, expertWidth: Int

    /// Writes output row `row`: the sum starts at zero and adds weight · y per rank (unfused multiply, then add).
    func sum(row: Int) {
        let out = output + row * width
        out.update(repeating: 0, count: width)
        for rank in 0..<topK {
            let weight = chosen[row * topK + rank].weight
            let y = expertOutputs + memberOf[row * topK + rank] * expertWidth
            for i in 0..<width { out[i] += weight * y[i] }
        }
    }
}
