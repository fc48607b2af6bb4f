// A timing harness for the engine's forward pass (not a unit test): prefill, single-stream decode and batched
// decode of P sequences on one GGUF file, median and spread over R repetitions. Built and run by
// Benchmarks/forward/run against the release build's modules.
import Dispatch
import Engine
import Foundation
import Tokenizers

struct Options {
    var model = ""
    var promptTokens = 512
    var genTokens = 32
    var parallel = 8
    var threads = 2
    var repeats = 5
    var chunk = 256
}

func parse() -> Options? {
    var o = Options()
    var args = CommandLine.arguments.dropFirst()
    while let a = args.popFirst() {
        func int() -> Int? { args.popFirst().flatMap { Int($0) } }
        switch a {
        case "--prompt-tokens": guard let v = int() else { return nil }; o.promptTokens = v
        case "--gen-tokens": guard let v = int() else { return nil }; o.genTokens = v
        case "--parallel": guard let v = int() else { return nil }; o.parallel = v
        case "--threads": guard let v = int() else { return nil }; o.threads = v
        case "--repeat": guard let v = int() else { return nil }; o.repeats = v
        case "--chunk": guard let v = int() else { return nil }; o.chunk = v
        default:
            if a.hasPrefix("-") || !o.model.isEmpty { return nil }
            o.model = a
        }
    }
    return o.model.isEmpty ? nil : o
}

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

func argmax(_ v: [Float]) -> TokenID {
    var best = 0
    for i in v.indices where v[i] > v[best] { best = i }
    return TokenID(best)
}

func summary(_ values: [Double]) -> String {
    let s = values.sorted()
    let median = s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    return String(format: "%8.2f  (min %.2f, max %.2f)", median, s.first ?? 0, s.last ?? 0)
}

guard let options = parse() else {
    FileHandle.standardError.write(Data(("usage: forward-bench MODEL.gguf [--prompt-tokens N] [--gen-tokens N] "
        + "[--parallel P] [--threads T] [--repeat R] [--chunk C]\n").utf8))
    exit(2)
}

do {
    let loadStart = now()
    let loaded = try ModelLoader.load(path: options.model, threads: options.threads)
    let loadSeconds = now() - loadStart
    let model = loaded.model
    let vocabulary = model.properties.vocabularySize
    // A deterministic prompt of ordinary token ids (the benchmark does not care about their meaning).
    let prompt = (0..<options.promptTokens).map { TokenID(100 + ($0 * 7919) % min(vocabulary - 100, 30000)) }
    print(String(format: "model %@  load %.2f s  threads %d  prompt %d  gen %d  parallel %d  repeats %d",
                 options.model, loadSeconds, options.threads, options.promptTokens, options.genTokens,
                 options.parallel, options.repeats))
    var prefill: [Double] = [], decode: [Double] = [], batched: [Double] = []
    for _ in 0..<options.repeats {
        // Prefill in chunks, as the scheduler does; then single-stream greedy decode.
        let state = try model.makeState(capacity: options.promptTokens + options.genTokens + 1)
        var t = now()
        var logits: [Float] = []
        var start = 0
        while start < prompt.count {
            let end = min(prompt.count, start + options.chunk)
            logits = try model.forward([ForwardItem(state: state, tokens: Array(prompt[start..<end]))],
                                       allPositions: false).first ?? []
            start = end
        }
        prefill.append(Double(prompt.count) / (now() - t))
        t = now()
        for _ in 0..<options.genTokens {
            logits = try model.forward([ForwardItem(state: state, tokens: [argmax(logits)])], allPositions: false)
                .first ?? []
        }
        decode.append(Double(options.genTokens) / (now() - t))
        // P sequences, each after a short distinct prompt, decoded together one token each per step.
        if options.parallel > 1 {
            let states = try (0..<options.parallel).map { _ in
                try model.makeState(capacity: 16 + options.genTokens + 1)
            }
            var last = try model.forward(states.enumerated().map { i, s in
                ForwardItem(state: s, tokens: (0..<16).map { TokenID(200 + i * 16 + $0) })
            }, allPositions: false)
            t = now()
            for _ in 0..<options.genTokens {
                last = try model.forward(states.enumerated().map { i, s in
                    ForwardItem(state: s, tokens: [argmax(last[i])])
                }, allPositions: false)
            }
            batched.append(Double(options.genTokens * options.parallel) / (now() - t))
        }
    }
    print("prefill tokens/s          " + summary(prefill))
    print("decode tokens/s           " + summary(decode))
    if !batched.isEmpty { print("decode x\(options.parallel) aggregate t/s    " + summary(batched)) }
} catch {
    FileHandle.standardError.write(Data("forward-bench: \(error)\n".utf8))
    exit(1)
}
