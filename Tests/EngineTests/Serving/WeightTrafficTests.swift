import Foundation
import GGUF
import Testing
@testable import Engine

/// The bytes `sparrow bench` says a step reads: every tensor of the file accounted for exactly once.
@Suite struct WeightTrafficTests {
    static func file(_ name: String) throws -> GGUFFile {
        try GGUFFile(contentsOf: ModelFixture.directory.appendingPathComponent(name))
    }

    @Test("dense + embedding table + every expert = all tensor bytes", arguments: ["qwen3moe-a.gguf", "qwen3moe-q-q4_k_m.gguf", "llama.gguf"])
    func everyTensorCountedOnce(name: String) throws {
        let file = try Self.file(name)
        let traffic = WeightTraffic(file: file)
        let total = file.tensors.reduce(0) { $0 + $1.byteCount }
        let embedding = file.tensorInfo(named: "token_embd.weight")
        let tableBytes = traffic.embeddingRowBytes == 0 ? 0 : (embedding?.byteCount ?? 0)
        let allExperts = traffic.expertBytes.values.reduce(0, +) * traffic.expertCount
        #expect(traffic.denseBytes + tableBytes + allExperts == total)
        if file.tensorInfo(named: "output.weight") == nil {
            #expect(traffic.embeddingRowBytes == 0, "a tied embedding is the output matrix, read whole")
        }
    }

    @Test func expertsAreCountedPerLayerFromTheFile() throws {
        let file = try Self.file("qwen3moe-a.gguf")
        let traffic = WeightTraffic(file: file)
        let experts = try file.metadata.integer("qwen3moe.expert_count")
        let used = try file.metadata.integer("qwen3moe.expert_used_count")
        #expect(traffic.expertCount == experts)
        #expect(traffic.expertsPerToken == used)
        let layers = try file.metadata.integer("qwen3moe.block_count")
        #expect(traffic.expertBytes.keys.sorted() == Array(0..<layers))
        let gate = try #require(file.tensorInfo(named: "blk.0.ffn_gate_exps.weight"))
        let up = try #require(file.tensorInfo(named: "blk.0.ffn_up_exps.weight"))
        let down = try #require(file.tensorInfo(named: "blk.0.ffn_down_exps.weight"))
        #expect(traffic.expertBytes[0] == (gate.byteCount + up.byteCount + down.byteCount) / experts)
        // One token: top-k experts per layer; many tokens: never more than all experts.
        let one = traffic.denseBytes + traffic.embeddingRowBytes + traffic.expertBytes.values.reduce(0, +) * used
        #expect(traffic.upperBoundStepBytes(tokens: 1) == one)
        let many = traffic.denseBytes + 50 * traffic.embeddingRowBytes + traffic.expertBytes.values.reduce(0, +) * experts
        #expect(traffic.upperBoundStepBytes(tokens: 50) == many)
    }

    @Test func denseModelsHaveNoExperts() throws {
        let traffic = WeightTraffic(file: try Self.file("llama.gguf"))
        #expect(traffic.expertCount == 0)
        #expect(traffic.expertBytes.isEmpty)
        #expect(traffic.upperBoundStepBytes(tokens: 3) == traffic.denseBytes + 3 * traffic.embeddingRowBytes)
    }

    @Test func rateMeasurementStatistics() {
        let odd = RateMeasurement(runs: [3, 1, 2])
        #expect(odd.median == 2 && odd.minimum == 1 && odd.maximum == 3)
        #expect(abs(odd.standardDeviation - 1) < 1e-12)
        let even = RateMeasurement(runs: [4, 1, 3, 2])
        #expect(even.median == 2.5)
    }
}

/// The greedy pick `sparrow bench` decodes with.
@Suite struct BenchmarkArgmaxTests {
    @Test("the first index of the largest value; 0 for one value or none")
    func firstLargest() {
        #expect(ModelBenchmark.argmax([1, 3, 3, 2]) == 1)
        #expect(ModelBenchmark.argmax([-5, -1, -2]) == 1)
        #expect(ModelBenchmark.argmax([2, 0, 0, 9]) == 3)
        #expect(ModelBenchmark.argmax([7]) == 0)
        #expect(ModelBenchmark.argmax([]) == 0)
        // Past the last whole group of 16, ties, and NaNs (which never win, as with `>`).
        var tail = [Float](repeating: 1, count: 37)
        tail[35] = 4
        tail[36] = 4
        #expect(ModelBenchmark.argmax(tail) == 35)
        tail[3] = .nan
        tail[20] = .nan
        #expect(ModelBenchmark.argmax(tail) == 35)
        tail[17] = 4
        #expect(ModelBenchmark.argmax(tail) == 17)
        #expect(ModelBenchmark.argmax([.nan, 5, 6]) == 0)
        // The largest value sits at the index i where (i·7919) mod n = n − 1.
        let long = (0..<151_936).map { Float(($0 * 7919) % 151_936) }
        #expect(Int(ModelBenchmark.argmax(long)) == long.firstIndex(of: long.max()!))
    }
}
