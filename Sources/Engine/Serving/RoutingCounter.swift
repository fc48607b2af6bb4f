import Foundation

/// Counts, per forward step and MoE layer, how many different experts the step's tokens routed to, from the
/// router logits a `TraceHook` reports (`ffn_moe_logits`). Top-k of the logits equals top-k of their softmax
/// (ties to the lower index, as `MixtureOfExperts.route`).
final class RoutingCounter: @unchecked Sendable {
    // The hook runs on the thread that calls forward; the lock makes reading the totals afterwards safe.
    private let lock = NSLock()
    private let expertsPerToken: Int
    /// Σ over steps of the distinct experts used, per layer.
    private var distinctTotals: [Int: Int] = [:]
    private var steps = 0

    init(expertsPerToken: Int) { self.expertsPerToken = expertsPerToken }

    func reset() {
        lock.lock()
        distinctTotals = [:]
        steps = 0
        lock.unlock()
    }

    /// The hook to pass to a traced forward call.
    var hook: TraceHook {
        { [self] event in observe(event) }
    }

    private func observe(_ event: TraceEvent) {
        if event.name == "result_output" {
            lock.lock()
            steps += 1
            lock.unlock()
            return
        }
        guard event.name == "ffn_moe_logits", let layer = event.layer, event.columns > 0, expertsPerToken > 0 else { return }
        var used = Set<Int>()
        for row in 0..<event.rows {
            let base = row * event.columns
            let order = (0..<event.columns).sorted { a, b in
                let x = event.values[base + a], y = event.values[base + b]
                return x > y || (x == y && a < b)
            }
            used.formUnion(order.prefix(expertsPerToken))
        }
        lock.lock()
        distinctTotals[layer, default: 0] += used.count
        lock.unlock()
    }

    /// Mean weight bytes per step since the last reset; the upper bound when nothing was traced.
    func stepBytes(_ traffic: WeightTraffic, traced: Bool, tokensPerStep: Int) -> Double {
        lock.lock()
        defer { lock.unlock() }
        guard traced, steps > 0 || traffic.expertCount == 0 else {
            return Double(traffic.upperBoundStepBytes(tokens: tokensPerStep))
        }
        var bytes = Double(traffic.denseBytes + tokensPerStep * traffic.embeddingRowBytes)
        for (layer, perExpert) in traffic.expertBytes {
            bytes += Double(distinctTotals[layer] ?? 0) / Double(max(steps, 1)) * Double(perExpert)
        }
        return bytes
    }
}
