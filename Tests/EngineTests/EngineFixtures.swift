import Foundation
import Testing
@testable import Engine

/// Reference data made by Scripts/make-fixtures.py (see Fixtures/README.md).
struct ModelFixture: Decodable {
    struct Greedy: Decodable {
        var ids: [Int32]
        var margins: [Double]
        var ranges: [Double]
    }

    var model: String
    var reference: String
    var sequences: [[Int32]]
    var greedy: [Greedy]?
    var logits_file: String
    var logits_shape: [Int]

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func named(_ name: String) throws -> ModelFixture {
        let data = try Data(contentsOf: directory.appendingPathComponent("\(name).json"))
        return try JSONDecoder().decode(ModelFixture.self, from: data)
    }

    var modelPath: String { Self.directory.appendingPathComponent(model).path }

    /// logits[sequence][position] (vocabulary floats each).
    func logits() throws -> [[[Float]]] {
        let data = try Data(contentsOf: Self.directory.appendingPathComponent(logits_file))
        let floats = data.withUnsafeBytes { raw in
            (0..<(raw.count / 4)).map { Float(bitPattern: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self).littleEndian) }
        }
        let (s, p, v) = (logits_shape[0], logits_shape[1], logits_shape[2])
        #expect(floats.count == s * p * v)
        return (0..<s).map { i in (0..<p).map { j in Array(floats[((i * p + j) * v)..<((i * p + j + 1) * v)]) } }
    }
}

/// Loads a model once per call with a 2-thread pool.
func loadFixtureModel(_ path: String) throws -> LoadedModel {
    try ModelLoader.load(path: path, threads: 2)
}

/// Runs `tokens` through a fresh state and returns every position's logits.
func allLogits(_ model: any LanguageModel, _ tokens: [Int32]) throws -> [[Float]] {
    let state = try model.makeState(capacity: tokens.count + 32)
    let flat = try model.forward([ForwardItem(state: state, tokens: tokens)], allPositions: true)[0]
    let v = model.properties.vocabularySize
    return (0..<tokens.count).map { Array(flat[($0 * v)..<(($0 + 1) * v)]) }
}

/// Greedy continuation: prefill `prompt`, then `count` tokens one by one; returns the ids.
func greedy(_ model: any LanguageModel, prompt: [Int32], count: Int) throws -> [Int32] {
    let state = try model.makeState(capacity: prompt.count + count + 1)
    var logits = try model.forward([ForwardItem(state: state, tokens: prompt)], allPositions: false)[0]
    var ids: [Int32] = []
    for _ in 0..<count {
        let best = Int32(argmax(logits))
        ids.append(best)
        logits = []  // let go of the step's logits, so the next step writes into their arrays
        logits = try model.forward([ForwardItem(state: state, tokens: [best])], allPositions: false)[0]
    }
    return ids
}

/// The first index of the largest value.
func argmax(_ values: [Float]) -> Int {
    var best = 0
    for i in values.indices where values[i] > values[best] { best = i }
    return best
}

/// The largest value minus the second largest.
func topTwoMargin(_ values: [Float]) -> Float {
    let sorted = values.sorted(by: >)
    return sorted.count > 1 ? sorted[0] - sorted[1] : .infinity
}

/// SPARROW_CACHE, else ${XDG_CACHE_HOME:-$HOME/.cache}/sparrow.
func sparrowCache() -> URL {
    let env = ProcessInfo.processInfo.environment
    if let cache = env["SPARROW_CACHE"], !cache.isEmpty { return URL(fileURLWithPath: cache) }
    let base = env["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? (NSHomeDirectory() + "/.cache")
    return URL(fileURLWithPath: base).appendingPathComponent("sparrow")
}
