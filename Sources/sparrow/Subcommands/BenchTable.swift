import Engine
import Foundation

/// The human-readable form of a model benchmark report.
enum BenchTable {
    static func text(_ r: ModelBenchmarkReport) -> String {
        func rate(_ m: RateMeasurement) -> String {
            String(format: "%8.2f tokens/s  (min %.2f, max %.2f, sd %.2f)", m.median, m.minimum, m.maximum,
                   m.standardDeviation)
        }
        func gb(_ bytes: Double) -> String { String(format: "%.3f GB", bytes / 1e9) }
        var lines = [
            "\(r.model): \(r.architecture) (\(r.name)), \(gb(Double(r.fileBytes))) file",
            "threads \(r.threads); median of \(r.repeats) repetitions; weights \(r.weights); "
                + "load \(String(format: "%.2f", r.loadSeconds)) s"
                + (r.depth > 0 ? "; every cache already holds \(r.depth) tokens" : ""),
            "prefill \(r.promptTokens) tokens:       " + rate(r.prefill),
            "decode \(r.generatedTokens) tokens, 1 seq:   " + rate(r.decode),
        ]
        if let aggregate = r.aggregateDecode {
            let gain = aggregate.median / max(r.decode.median, 1e-12)
            var line = "decode \(r.generatedTokens) tokens, \(r.parallel) seqs:  " + rate(aggregate)
                + String(format: "  = %.2f × single", gain)
            // What the weight bytes alone allow: single-stream bytes per token over the batch's.
            if let bytes = r.aggregateWeightBytesPerToken, bytes > 0, r.weightBytesPerToken > 0 {
                let ceiling = r.weightBytesPerToken / bytes
                line += String(format: " (the bytes read allow %.2f×: %.0f %% of it)", ceiling, 100 * gain / ceiling)
            }
            lines.append(line)
        }
        var traffic = "weight bytes per generated token: \(gb(r.weightBytesPerToken)) (1 seq)"
        if let aggregate = r.aggregateWeightBytesPerToken { traffic += ", \(gb(aggregate)) (\(r.parallel) seqs)" }
        lines.append(traffic + " [routing \(r.routing)]")
        if let peak = r.peakResidentBytes { lines.append("peak resident memory: \(gb(Double(peak)))") }
        return lines.joined(separator: "\n")
    }
}
