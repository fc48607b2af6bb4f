import ArgumentParser
import Dispatch
import Engine
import Foundation
import Tokenizers

/// `sparrow model logits MODEL.gguf --tokens 1,2,3 [--all] [--json]`: the model's logits for a token sequence,
/// for checking against reference implementations.
struct ModelLogits: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logits",
        abstract: "Logits of the last position (or every position) for a sequence of token ids."
    )

    @Argument(help: "The GGUF model file.")
    var model: String

    @Option(help: "Comma-separated token ids, e.g. 1,2,3.")
    var tokens: String

    @Flag(help: "Print the logits of every position, not only the last.")
    var all = false

    @Flag(help: "Print one JSON document: {\"tokens\": [...], \"logits\": [[...] per position]}.")
    var json = false

    @Option(help: "Matrix threads (default: every core).")
    var threads: Int?

    @Option(help: "After the logits, decode this many greedy tokens one by one and print decode tokens/s on standard error (a quick speed check).")
    var benchmarkDecode: Int?

    @Option(help: "Print the named intermediate results (e.g. Qcur, kqv_out, l_out; 'all' for every one) on standard error: per row the first and last 3 values and the sum, like llama-eval-callback.")
    var trace: String?

    func parsedTokens() throws -> [TokenID] {
        let parts = tokens.split(separator: ",", omittingEmptySubsequences: false)
        var ids: [TokenID] = []
        for part in parts {
            guard let id = TokenID(part.trimmingCharacters(in: .whitespaces)), id >= 0 else {
                throw ValidationError("--tokens: expected comma-separated non-negative integers, found '\(part)'")
            }
            ids.append(id)
        }
        guard !ids.isEmpty else { throw ValidationError("--tokens: expected at least one token id") }
        return ids
    }

    func validate() throws {
        _ = try parsedTokens()
        if let threads, threads < 1 { throw ValidationError("--threads: expected a count ≥ 1, found \(threads)") }
    }

    /// One event as llama-eval-callback prints one tensor: per row the first and last three values, then the sum.
    static func summary(_ event: TraceEvent) -> String {
        var text = "\(event.name)\(event.layer.map { "-\($0)" } ?? "") {\(event.columns), \(event.rows)}\n"
        for row in 0..<event.rows {
            let values = event.values[(row * event.columns)..<((row + 1) * event.columns)]
            let shown = (values.prefix(3) + values.suffix(3)).map { String(format: "%10.4f", $0) }
            text += "  [" + shown[0..<3].joined(separator: ", ") + ", ..., " + shown[3...].joined(separator: ", ") + "]\n"
        }
        text += String(format: "  sum = %.6f\n", event.values.reduce(0, +))
        return text
    }

    func run() throws {
        let ids = try parsedTokens()
        let started = DispatchTime.now().uptimeNanoseconds
        let rows: [Float]
        do {
            let loaded = try ModelLoader.load(path: model, threads: threads)
            let state = try loaded.model.makeState(capacity: ids.count + max(benchmarkDecode ?? 0, 0))
            let items = [ForwardItem(state: state, tokens: ids)]
            if let trace, let traceable = loaded.model as? any TraceableLanguageModel {
                let wanted = Set(trace.split(separator: ",").map(String.init))
                rows = try traceable.forward(items, allPositions: all) { event in
                    guard wanted.contains("all") || wanted.contains(event.name) else { return }
                    FileHandle.standardError.write(Data(Self.summary(event).utf8))
                }.first ?? []
            } else {
                rows = try loaded.model.forward(items, allPositions: all).first ?? []
            }
            if let steps = benchmarkDecode, steps > 0 {
                let vocabulary = loaded.model.properties.vocabularySize
                var last = Array(rows.suffix(vocabulary))
                let start = DispatchTime.now().uptimeNanoseconds
                for _ in 0..<steps {
                    var best = 0
                    for i in last.indices where last[i] > last[best] { best = i }
                    last = []  // let go of the step's logits, so the next step writes into their arrays
                    last = try loaded.model.forward([ForwardItem(state: state, tokens: [TokenID(best)])],
                                                    allPositions: false).first ?? []
                }
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                FileHandle.standardError.write(Data(String(format: "sparrow: decoded %d tokens in %.3f s: %.1f tokens/s\n",
                                                           steps, seconds, Double(steps) / seconds).utf8))
            }
        } catch {
            FileHandle.standardError.write(Data("sparrow: \(error)\n".utf8))
            throw ExitCode(2)
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        let positions = all ? ids.count : 1
        let vocabulary = rows.count / max(positions, 1)
        let perPosition = (0..<positions).map { Array(rows[($0 * vocabulary)..<(($0 + 1) * vocabulary)]) }
        FileHandle.standardError.write(Data(String(format: "sparrow: %d tokens in %.3f s (load included)\n",
                                                   ids.count, seconds).utf8))
        if json {
            // Shortest round-trip decimal of each f32, so the numbers read back bit for bit.
            let body = perPosition.map { "[" + $0.map { "\($0)" }.joined(separator: ",") + "]" }.joined(separator: ",")
            print("{\"tokens\":[\(ids.map(String.init).joined(separator: ","))],\"logits\":[\(body)]}")
        } else {
            for (index, logits) in perPosition.enumerated() {
                let position = all ? index : ids.count - 1
                print("position \(position): " + logits.map { "\($0)" }.joined(separator: " "))
            }
        }
    }
}
