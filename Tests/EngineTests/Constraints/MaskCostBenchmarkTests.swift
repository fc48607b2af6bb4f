import Engine
import Foundation
import Generation
import Testing
import Tokenizers

/// Mask cost per generated token on the Qwen vocabulary for the schemas Sparrow actually sends: review findings,
/// and search/replace edits whose SEARCH side must occur exactly once in the edited file (as `EditSchema` asks). Prints numbers, asserts
/// only correctness (no timing thresholds). Run in release for meaningful figures:
/// `swift test -c release -Xswiftc -enable-testing --filter MaskCostBenchmarkTests`.
@Suite(.serialized) struct MaskCostBenchmarkTests {
    static let findings = schemaObject(
        ("type", .string("object")),
        ("properties", schemaObject(("findings", schemaObject(
            ("type", .string("array")), ("maxItems", .number(20)),
            ("items", schemaObject(
                ("type", .string("object")),
                ("properties", schemaObject(
                    ("file", schemaObject(("type", .string("string")), ("maxLength", .number(200)))),
                    ("line", schemaObject(("type", .string("integer")), ("minimum", .number(1)))),
                    ("end_line", schemaObject(("type", .string("integer")), ("minimum", .number(1)))),
                    ("severity", schemaObject(("enum", .array([.string("error"), .string("warning"), .string("note")])))),
                    ("rule", schemaObject(("type", .string("string")), ("pattern", .string("^[a-z][a-z0-9-]*$")), ("maxLength", .number(64)))),
                    ("message", schemaObject(("type", .string("string")), ("minLength", .number(1)), ("maxLength", .number(1000)))),
                    ("suggestion", schemaObject(("type", .string("string"))))
                )),
                ("required", .array([.string("file"), .string("line"), .string("severity"), .string("message")])),
                ("additionalProperties", .bool(false))
            ))
        )))),
        ("required", .array([.string("findings")])),
        ("additionalProperties", .bool(false))
    )

    static func edits(of file: String) -> JSONValue {
        schemaObject(
            ("type", .string("object")),
            ("properties", schemaObject(("edits", schemaObject(
                ("type", .string("array")), ("minItems", .number(1)), ("maxItems", .number(5)),
                ("items", schemaObject(
                    ("type", .string("object")),
                    ("properties", schemaObject(
                        ("search", schemaObject(("type", .string("string")), ("minLength", .number(1)), ("x-sparrow-unique-substring-of", .string(file)))),
                        ("replace", schemaObject(("type", .string("string"))))
                    )),
                    ("required", .array([.string("search"), .string("replace")]))
                ))
            )))),
            ("required", .array([.string("edits")]))
        )
    }

    @Test func reviewFindingsAndSearchReplaceEdits() throws {
        let trie = TokenTrie(tokenizer: try ConstraintFixtures.qwenTokenizer())
        let source = ConstraintFixtures.scripts.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/Tokenizers/Tokenizer.swift")
        let file = try String(contentsOf: source, encoding: .utf8)
        for (name, schema) in [("review findings", Self.findings), ("search/replace edits (\(file.utf8.count)-byte file)", Self.edits(of: file))] {
            let compileStart = ContinuousClock.now
            let program = try ConstraintProgram(schema: schema)
            let compileTime = ContinuousClock.now - compileStart
            let session = try ConstraintSession(program: program, trie: trie, maxTokens: 512)
            var generator = SeededGenerator(seed: 2026)
            var sampler = FakeSampler(vocabularySize: trie.vocabularySize, temperature: 1.5, seed: 11)
            var times: [Duration] = []
            var tokens = 0
            for generation in 0..<40 {
                try session.reset(maxTokens: 512)
                sampler.shuffle(using: &generator)
                var maskTime = Duration.zero
                let answer = try generateConstrained(session: session, sampler: sampler, generator: &generator, maskTime: &maskTime)
                #expect(!answer.deadEnd && session.canEnd)
                let parsed = try ParsedJSON.parse(answer.bytes)
                #expect(IndependentValidator.violation(parsed, schema) == nil, "generation \(generation)")
                times.append(maskTime / max(1, answer.tokens + 1))
                tokens += answer.tokens
            }
            func microseconds(_ duration: Duration) -> String {
                String(format: "%.1f µs", Double(duration.components.seconds) * 1e6 + Double(duration.components.attoseconds) / 1e12)
            }
            let first = microseconds(times[0])
            let warm = microseconds(times.dropFirst().reduce(Duration.zero, +) / max(1, times.count - 1))
            let counts = session.statistics
            print("""
                constraints-benchmark[\(name)]: compile \(microseconds(compileTime)); mask per token: first answer \(first), \
                next 39 answers \(warm) on average; \(tokens) tokens; masks cached \(counts.cached), computed \
                \(counts.computed), budget-limited \(counts.budgetLimited), substring \(counts.uncached)
                """)
        }
    }

    /// Issue 8's benchmark: the cost of constraining one generated token on the Qwen vocabulary (the mask, then
    /// the sampler reading it) beside the forward pass of a real model, measured in the same process, and their
    /// ratio (the aim: under 5 %). Forward passes: SmolLM2-135M (`Scripts/fetch-models`), and the 8-layer
    /// qwen3moe benchmark file when `$SPARROW_CACHE/bench-models/qwen3moe-8l.Q4_K_M.gguf` exists. A debug build
    /// runs a few steps only (the numbers then mean little); `make bench-constraints` runs it in release.
    @Test func maskCostBesideTheForwardPass() throws {
        #if DEBUG
        let (answers, budget, decodeSteps) = (1, 24, 1)
        #else
        let (answers, budget, decodeSteps) = (40, 512, 32)
        #endif
        print("constraints-overhead: load average \(Self.loadAverage()) (noisy when others compile; compare numbers of one run)")
        let tokenizer = try ConstraintFixtures.qwenTokenizer()
        let trie = TokenTrie(tokenizer: tokenizer)
        let session = try ConstraintSession(program: try ConstraintProgram(schema: Self.findings), trie: trie, maxTokens: budget)
        var generator = SeededGenerator(seed: 5)
        var fake = FakeSampler(vocabularySize: trie.vocabularySize, temperature: 1.5, seed: 6)
        let logits = (0..<tokenizer.vocabularySize).map { _ in Float(generator.normal() * 3) }
        var greedy = Sampler(SamplingParameters())
        var maskTime = Duration.zero, bitsetTime = Duration.zero, perIDTime = Duration.zero, unmaskedTime = Duration.zero
        var steps = 0
        var checksum = 0
        let clock = ContinuousClock()
        for _ in 0..<answers {
            try session.reset(maxTokens: budget)
            fake.shuffle(using: &generator)
            while !session.mustEnd {
                var mask = session.allowedTokens()
                maskTime += clock.measure { mask = session.allowedTokens() }
                // The sampler as the engine runs it (greedy), reading the mask word by word, asking per id, and
                // with no mask at all (the unconstrained baseline).
                bitsetTime += clock.measure { checksum &+= Int(greedy.next(logits, mask: mask) ?? -1) }
                perIDTime += clock.measure { checksum &+= Int(greedy.next(logits, allowed: { mask.contains($0) }) ?? -1) }
                unmaskedTime += clock.measure { checksum &+= Int(greedy.next(logits, mask: nil) ?? -1) }
                steps += 1
                let token = fake.sample(mask, using: &generator)
                if trie.endOfGeneration.contains(token) { break }
                try session.advance(token)
            }
            #expect(session.canEnd)
        }
        #expect(steps > 0 && checksum != 0)
        let perStep = { (total: Duration) in Self.microseconds(total) / Double(max(1, steps)) }
        // The mask computation is extra work; reading the mask replaces the unmasked scan, so only what it costs
        // beyond that scan counts.
        let overhead = perStep(maskTime) + max(0, perStep(bitsetTime) - perStep(unmaskedTime))
        print(String(
            format: "constraints-overhead[review findings, Qwen vocabulary %d ids, %d steps]: mask %.1f µs/token; greedy sampling "
                + "with the mask as a bitset %.1f µs, asking per id %.1f µs, unmasked %.1f µs; overhead %.1f µs/token",
            tokenizer.vocabularySize, steps, perStep(maskTime), perStep(bitsetTime), perStep(perIDTime), perStep(unmaskedTime), overhead
        ))

        let cache = ConstraintFixtures.cacheDirectory
        #if DEBUG
        let benchFiles: [(String, URL, Bool)] = []  // a debug forward pass over the 3.5 GB file takes minutes
        #else
        let benchFiles = [("qwen3moe 8 layers Q4_K_M", cache.appendingPathComponent("bench-models/qwen3moe-8l.Q4_K_M.gguf"), false)]
        #endif
        let models = [
            ("SmolLM2-135M-Instruct Q4_1", cache.appendingPathComponent("models/SmolLM2-135M-Instruct.Q4_1.gguf"), true),
        ] + benchFiles
        for (name, url, required) in models {
            guard FileManager.default.fileExists(atPath: url.path) else {
                if required { Issue.record("\(url.path) is missing: run Scripts/fetch-models (make test does)") }
                print("constraints-overhead[\(name)]: \(url.path) not present; no forward-pass figure")
                continue
            }
            let loaded = try ModelLoader.load(path: url.path, threads: ProcessInfo.processInfo.activeProcessorCount)
            let forward = try Self.decodeTime(loaded.model, promptLength: min(16, 4 * decodeSteps), steps: decodeSteps)
            let vocabulary = loaded.model.properties.vocabularySize
            print(String(
                format: "constraints-overhead[%@, vocabulary %d]: forward pass %.0f µs/token (single-sequence decode, median of %d "
                    + "steps, %d threads); Qwen-vocabulary constraint overhead / forward = %.2f %%",
                name, vocabulary, forward, decodeSteps, ProcessInfo.processInfo.activeProcessorCount, overhead / forward * 100
            ))
        }
    }

    /// Median µs per single-token decode step after a short prefill.
    static func decodeTime(_ model: any LanguageModel, promptLength: Int, steps: Int) throws -> Double {
        let state = try model.makeState(capacity: promptLength + steps + 1)
        var logits = try model.forward([ForwardItem(state: state, tokens: (0..<promptLength).map { TokenID(100 + $0) })], allPositions: false)[0]
        var times: [Double] = []
        let clock = ContinuousClock()
        for _ in 0..<steps {
            var best = 0
            for index in logits.indices where logits[index] > logits[best] { best = index }
            let input = TokenID(best)
            var next: [[Float]] = []
            let elapsed = try clock.measure { next = try model.forward([ForwardItem(state: state, tokens: [input])], allPositions: false) }
            logits = next[0]
            times.append(microseconds(elapsed))
        }
        times.sort()
        return times.isEmpty ? .nan : times[times.count / 2]
    }

    static func microseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1e6 + Double(duration.components.attoseconds) / 1e12
    }

    /// The 1-, 5- and 15-minute load averages, as `uptime` shows them.
    static func loadAverage() -> String {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return "unknown" }
        return text.split(separator: " ").prefix(3).joined(separator: ", ")
    }
}
