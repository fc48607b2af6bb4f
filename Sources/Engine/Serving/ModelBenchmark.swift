import Foundation
public import GGUF
import Kernels
import Tokenizers

/// What `sparrow bench MODEL.gguf` measures (DESIGN.md §9).
public struct ModelBenchmarkConfiguration: Sendable, Hashable {
    /// Prompt tokens of the prefill measurement (llama-bench `-p`).
    public var promptTokens = 512
    /// Tokens generated per decode measurement (llama-bench `-n`), starting from an empty cache.
    public var generatedTokens = 128
    /// Sequences decoded together in the aggregate measurement (1: none).
    public var parallel = 8
    /// Matrix threads, the calling thread included.
    public var threads = 2
    /// Timed repetitions of each measurement (after one untimed warm-up).
    public var repeats = 5
    /// Prompt tokens per forward call during prefill (llama-bench's micro-batch is 512).
    public var prefillChunk = 512
    /// Where the weights live: mapped from the file (default) or read into huge-page memory at load.
    public var storage = GGUFStorage.mapped
    /// Whether the Q4_K and Q6_K matrices get repacked copies at load (`model.weights: repacked`).
    public var repack = false
    /// Tokens already in every sequence's cache when prefill and decode are timed (llama-bench `-d`); 0: an empty
    /// cache. The caches are filled once, untimed, and cut back to this length before each measurement.
    public var depth = 0

    public init() {}
}

/// A rate measured over several repetitions.
public struct RateMeasurement: Codable, Sendable, Hashable {
    /// Tokens per second of each timed repetition, in order.
    public var runs: [Double]
    public var median: Double
    public var minimum: Double
    public var maximum: Double
    /// Sample standard deviation (what llama-bench prints after ±).
    public var standardDeviation: Double

    public init(runs: [Double]) {
        self.runs = runs
        let sorted = runs.sorted()
        let n = sorted.count
        median = n == 0 ? 0 : (n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2)
        minimum = sorted.first ?? 0
        maximum = sorted.last ?? 0
        let mean = n == 0 ? 0 : runs.reduce(0, +) / Double(n)
        let variance = n < 2 ? 0 : runs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n - 1)
        standardDeviation = variance.squareRoot()
    }
}

/// The result of `ModelBenchmark.run`, one JSON document with `--json`.
public struct ModelBenchmarkReport: Codable, Sendable {
    public var model: String
    public var architecture: String
    public var name: String
    public var fileBytes: Int
    public var threads: Int
    public var promptTokens: Int
    public var generatedTokens: Int
    public var parallel: Int
    public var repeats: Int
    /// `mapped`, `memory` (`GGUFStorage`) or `repacked` (in memory, with repacked copies): where the weights lived.
    public var weights: String
    /// Bytes of repacked copies made at load (0 unless `weights` is `repacked`); part of `loadSeconds`.
    public var repackedBytes: Int
    /// Tokens in each cache before the timed prefill and decode (0: an empty cache).
    public var depth: Int
    /// Wall seconds of `ModelLoader.load` (mapping or reading the file, tensor checks, tokenizer); mapped pages are
    /// faulted in later, by the untimed warm-up.
    public var loadSeconds: Double
    /// Prompt tokens per second, one sequence, from an empty cache.
    public var prefill: RateMeasurement
    /// Generated tokens per second, one sequence.
    public var decode: RateMeasurement
    /// Generated tokens per second summed over `parallel` sequences decoded together; nil when parallel is 1.
    public var aggregateDecode: RateMeasurement?
    /// Weight bytes read per generated token, single stream (dense tensors + the experts actually routed to).
    public var weightBytesPerToken: Double
    /// The same with `parallel` sequences per step (shared tensors and shared experts read once per step).
    public var aggregateWeightBytesPerToken: Double?
    /// `traced`: experts counted from the router's choices of each step; `upper-bound`: the model does not report
    /// routing, so every token is assumed to use its own experts.
    public var routing: String
    /// Peak resident memory of the process (VmHWM of /proc/self/status), bytes; nil where unavailable.
    public var peakResidentBytes: Int?
}

/// Runs the model benchmark on the engine's public API: `ModelLoader` and `LanguageModel.forward`.
public enum ModelBenchmark {
    /// Loads `path` and measures prefill, single-stream decode and aggregate decode; `progress` gets one line per
    /// phase (for stderr).
    public static func run(path: String, _ configuration: ModelBenchmarkConfiguration,
                           progress: (String) -> Void = { _ in }) throws(EngineError) -> ModelBenchmarkReport
    {
        let c = configuration
        guard c.promptTokens >= 1, c.generatedTokens >= 1, c.parallel >= 1, c.threads >= 1, c.repeats >= 1,
              c.prefillChunk >= 1, c.depth >= 0
        else {
            throw .invalidInput("bench: expected positive prompt tokens, generated tokens, parallel, threads, "
                                + "repeats and prefill chunk, and a depth ≥ 0")
        }
        let started = ContinuousClock.now
        let loaded = try ModelLoader.load(path: path, threads: c.threads, storage: c.storage, repack: c.repack)
        let loadSeconds = seconds(ContinuousClock.now - started)
        let file: GGUFFile
        do {
            file = try GGUFFile(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw .model(path: path, reason: "\(error)")
        }
        let traffic = WeightTraffic(file: file)
        let model = loaded.model
        let properties = model.properties
        let vocabulary = min(properties.vocabularySize, loaded.tokenizer.tokenizer.vocabularySize)
        let prompt = syntheticTokens(count: c.promptTokens, vocabulary: vocabulary, seed: 1)
        let firsts = syntheticTokens(count: c.parallel, vocabulary: vocabulary, seed: 2)

        // Warm-up, untimed: faults the weights in and counts the experts each decode step routes to.
        progress("warm-up (counting routed experts)")
        let counter = RoutingCounter(expertsPerToken: traffic.expertsPerToken)
        let traced = model as? any TraceableLanguageModel
        let observe: ((any LanguageModel, [ForwardItem]) throws(EngineError) -> [[Float]]) = { model, items throws(EngineError) in
            if let traced { return try traced.forward(items, allPositions: false, trace: counter.hook) }
            return try model.forward(items, allPositions: false)
        }
        _ = try prefill(model, prompt, chunk: c.prefillChunk)
        counter.reset()
        _ = try decode(model, firsts: [firsts[0]], steps: c.generatedTokens, forward: observe)
        let single = counter.stepBytes(traffic, traced: traced != nil, tokensPerStep: 1)
        var aggregateBytes: Double?
        if c.parallel > 1 {
            counter.reset()
            _ = try decode(model, firsts: firsts, steps: c.generatedTokens, forward: observe)
            aggregateBytes = counter.stepBytes(traffic, traced: traced != nil, tokensPerStep: c.parallel)
                / Double(c.parallel)
        }

        // Caches already holding `depth` tokens (llama-bench -d): one for prefill and single-stream decode, one per
        // sequence of the aggregate measurement; filled once here, cut back to `depth` before each measurement.
        var filledSingle: (any SequenceState)?
        var filledSeveral: [any SequenceState]?
        if c.depth > 0 {
            let context = syntheticTokens(count: c.depth, vocabulary: vocabulary, seed: 3)
            progress("filling \(c.parallel > 1 ? c.parallel + 1 : 1) caches with \(c.depth) tokens (untimed)")
            filledSingle = try filledStates(model, count: 1, context: context,
                                      capacity: c.depth + max(c.promptTokens, c.generatedTokens), chunk: c.prefillChunk)[0]
            if c.parallel > 1 {
                filledSeveral = try filledStates(model, count: c.parallel, context: context,
                                           capacity: c.depth + c.generatedTokens, chunk: c.prefillChunk)
            }
        }

        var prefillRuns: [Double] = []
        var decodeRuns: [Double] = []
        var aggregateRuns: [Double] = []
        let plain: (any LanguageModel, [ForwardItem]) throws(EngineError) -> [[Float]] = { model, items throws(EngineError) in
            try model.forward(items, allPositions: false)
        }
        for repetition in 1...c.repeats {
            progress("repetition \(repetition)/\(c.repeats)")
            prefillRuns.append(Double(c.promptTokens)
                               / (try prefill(model, prompt, chunk: c.prefillChunk, after: filledSingle, depth: c.depth)))
            decodeRuns.append(Double(c.generatedTokens)
                              / (try decode(model, firsts: [firsts[0]], steps: c.generatedTokens, forward: plain,
                                            after: filledSingle.map { [$0] }, depth: c.depth)))
            if c.parallel > 1 {
                let time = try decode(model, firsts: firsts, steps: c.generatedTokens, forward: plain, after: filledSeveral,
                                      depth: c.depth)
                aggregateRuns.append(Double(c.generatedTokens * c.parallel) / time)
            }
        }
        return ModelBenchmarkReport(
            model: path, architecture: properties.architecture, name: properties.name, fileBytes: loaded.fileSize,
            threads: c.threads, promptTokens: c.promptTokens, generatedTokens: c.generatedTokens,
            parallel: c.parallel, repeats: c.repeats,
            weights: c.repack ? "repacked" : loaded.weights.rawValue, repackedBytes: loaded.repackedBytes,
            depth: c.depth, loadSeconds: loadSeconds,
            prefill: RateMeasurement(runs: prefillRuns), decode: RateMeasurement(runs: decodeRuns),
            aggregateDecode: c.parallel > 1 ? RateMeasurement(runs: aggregateRuns) : nil,
            weightBytesPerToken: single, aggregateWeightBytesPerToken: aggregateBytes,
            routing: traced != nil || traffic.expertCount == 0 ? "traced" : "upper-bound",
            peakResidentBytes: ResidentMemory.peakBytes()
        )
    }

    /// `count` states holding `context`, prefilled together `chunk` tokens per sequence per call, each able to be
    /// cut back to that length (a recurrent state keeps a snapshot there).
    static func filledStates(_ model: any LanguageModel, count: Int, context: [TokenID], capacity: Int, chunk: Int)
        throws(EngineError) -> [any SequenceState]
    {
        var states: [any SequenceState] = []
        for _ in 0..<count { states.append(try model.makeState(capacity: capacity)) }
        var start = 0
        while start < context.count {
            let part = Array(context[start..<min(context.count, start + chunk)])
            _ = try model.forward(states.map { ForwardItem(state: $0, tokens: part) }, allPositions: false)
            start += part.count
        }
        for state in states { (state as? HybridSequenceState)?.takeSnapshot() }
        return states
    }

    /// Seconds to prefill `prompt` into a fresh state, or into `state` cut back to `depth` tokens, `chunk` tokens
    /// per forward call.
    static func prefill(_ model: any LanguageModel, _ prompt: [TokenID], chunk: Int,
                        after filled: (any SequenceState)? = nil, depth: Int = 0) throws(EngineError) -> Double
    {
        let state: any SequenceState
        if let filled {
            try filled.truncate(to: depth)
            state = filled
        } else {
            state = try model.makeState(capacity: prompt.count)
        }
        let started = ContinuousClock.now
        var start = 0
        while start < prompt.count {
            let end = min(prompt.count, start + chunk)
            _ = try model.forward([ForwardItem(state: state, tokens: Array(prompt[start..<end]))], allPositions: false)
            start = end
        }
        return seconds(ContinuousClock.now - started)
    }

    /// Seconds for `steps` greedy decode steps of `firsts.count` sequences together, each starting with its token of
    /// `firsts` from an empty cache, or from its state of `filled` cut back to `depth` tokens.
    static func decode(
        _ model: any LanguageModel, firsts: [TokenID], steps: Int,
        forward: (any LanguageModel, [ForwardItem]) throws(EngineError) -> [[Float]],
        after filled: [any SequenceState]? = nil, depth: Int = 0
    ) throws(EngineError) -> Double {
        // The items are built once and their one-token arrays overwritten in place, so the loop itself allocates
        // nothing (Benchmarks/allocations counts what `forward` allocates per step).
        var items: [ForwardItem] = []
        for (index, first) in firsts.enumerated() {
            if let filled {
                try filled[index].truncate(to: depth)
                items.append(ForwardItem(state: filled[index], tokens: [first]))
            } else {
                items.append(ForwardItem(state: try model.makeState(capacity: steps), tokens: [first]))
            }
        }
        let started = ContinuousClock.now
        for _ in 0..<steps {
            let logits = try forward(model, items)
            for index in items.indices { items[index].tokens[0] = argmax(logits[index]) }
        }
        return seconds(ContinuousClock.now - started)
    }

    /// Deterministic pseudo-random token ids below `vocabulary` (a 64-bit LCG), so every run reads the same input.
    static func syntheticTokens(count: Int, vocabulary: Int, seed: UInt64) -> [TokenID] {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 &+ 1
        let bound = UInt64(max(vocabulary, 1))
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return TokenID(truncatingIfNeeded: (state >> 33) % bound)
        }
    }

    /// The first index of the largest value (a greedy pick; a NaN never wins, as with `>`). The largest value is found
    /// 16 lanes at a time, then its first index: with 8 sequences this runs over 8 × 151,936 logits per step, on the
    /// caller's thread alone.
    static func argmax(_ values: [Float]) -> TokenID {
        values.withUnsafeBufferPointer { p in
            guard let first = p.first, let base = UnsafeRawPointer(p.baseAddress) else { return 0 }
            var lanes = SIMD16<Float>(repeating: first)
            var index = 0
            while index + 16 <= p.count {
                let v = (base + index * MemoryLayout<Float>.stride).loadUnaligned(as: SIMD16<Float>.self)
                lanes.replace(with: v, where: v .> lanes)
                index += 16
            }
            var largest = first
            for lane in 0..<16 where lanes[lane] > largest { largest = lanes[lane] }
            while index < p.count {
                if p[index] > largest { largest = p[index] }
                index += 1
            }
            // Its first index, 16 values at a time (firstIndex(of:) went one value at a time).
            let target = SIMD16<Float>(repeating: largest)
            index = 0
            while index + 16 <= p.count {
                let v = (base + index * MemoryLayout<Float>.stride).loadUnaligned(as: SIMD16<Float>.self)
                if any(v .== target) { break }
                index += 16
            }
            while index < p.count, p[index] != largest { index += 1 }
            return TokenID(truncatingIfNeeded: index < p.count ? index : 0)
        }
    }

    static func seconds(_ duration: Duration) -> Double {
        let (whole, attoseconds) = duration.components
        return Double(whole) + Double(attoseconds) * 1e-18
    }
}
