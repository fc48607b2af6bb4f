import Foundation
import Testing
import Tokenizers
@testable import Engine

/// Where the real model lives and whether this run must have it.
enum SmolLM2Model {
    static let path = sparrowCache().appendingPathComponent("models/SmolLM2-135M-Instruct.Q4_1.gguf").path
    static let present = FileManager.default.fileExists(atPath: path)
    static let isCI = ProcessInfo.processInfo.environment["CI"] == "true"
}

/// The real model (SmolLM2-135M-Instruct Q4_1, fetched by Scripts/fetch-models; `make test` fetches it). Under
/// CI=true a missing model fails the run; elsewhere these tests are skipped when it is absent.
@Suite("SmolLM2-135M-Instruct Q4_1 against llama.cpp", .serialized,
       .enabled(if: SmolLM2Model.present || SmolLM2Model.isCI, "model missing: run Scripts/fetch-models"))
struct SmolLM2Tests {
    struct Reference: Decodable {
        struct Run: Decodable {
            var prompt: [Int32]
            var generated: [Int32]
            var margins: [Double]
            var text: String
        }
        var runs: [Run]
    }

    static func load() throws -> LoadedModel {
        guard SmolLM2Model.present else {
            throw EngineError.model(path: SmolLM2Model.path, reason: "missing; run Scripts/fetch-models (make test does)")
        }
        return try ModelLoader.load(path: SmolLM2Model.path, threads: 2)
    }

    @Test("greedy 32-token continuations equal llama.cpp's up to its first near-tie (margin < 0.1)")
    func greedyContinuations() throws {
        let loaded = try Self.load()
        let data = try Data(contentsOf: ModelFixture.directory.appendingPathComponent("smollm2-greedy.json"))
        let reference = try JSONDecoder().decode(Reference.self, from: data)
        #expect(reference.runs.count == 3)
        for run in reference.runs {
            // The prompt ids are llama.cpp's; ours must agree before the continuation means anything.
            #expect(loaded.tokenizer.tokenizer.encode(run.text) == run.prompt, "tokenization of \(run.text.debugDescription)")
            let ours = try greedy(loaded.model, prompt: run.prompt, count: run.generated.count)
            var matched = 0
            for step in run.generated.indices {
                // A near-tie (top-2 margin < 0.1): from here on either token is as right as the other.
                if run.margins[step] < 0.1 { break }
                #expect(ours[step] == run.generated[step], "\(run.text.debugDescription) step \(step)")
                if ours[step] != run.generated[step] { break }
                matched += 1
            }
            #expect(matched > 0 || run.margins[0] < 0.1)
            print("SmolLM2 \(run.text.debugDescription): \(matched) tokens equal to llama.cpp's")
        }
    }

    /// Resident set size of this process in bytes (/proc/self/statm).
    static func residentBytes() throws -> Int {
        let text = try String(contentsOfFile: "/proc/self/statm", encoding: .utf8)
        let pages = text.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    @Test("resident memory after load and a forward pass ≤ 1.1 × file size + the cache budget")
    func memoryAfterLoad() throws {
        // Resident memory is per process, and other suites run in this process at the same time, so one
        // measurement can include their allocations. The smallest growth of three load → forward → release rounds
        // is this model's own: large buffers are mapped and unmapped whole, so a model that really used more (say,
        // every weight dequantized to f32) grows by that much in every round.
        var smallest = Int.max
        var limit = 0
        for _ in 0..<3 {
            let before = try Self.residentBytes()
            let grown: Int = try {
                let loaded = try Self.load()
                let capacity = 512
                let state = try loaded.model.makeState(capacity: capacity)
                _ = try loaded.model.forward([ForwardItem(state: state, tokens: Array(1...64))], allPositions: false)
                let budget = capacity * loaded.model.properties.cacheBytesPerToken
                limit = Int(1.1 * Double(loaded.fileSize)) + budget
                return try Self.residentBytes() - before
            }()
            smallest = min(smallest, grown)
        }
        print("SmolLM2: resident growth \(smallest) bytes (smallest of 3 rounds); limit \(limit)")
        #expect(smallest <= limit)
    }
}
