import Foundation
import TestSupport
import Testing

/// `sparrow bench MODEL.gguf` as a user calls it: argument checks, exit codes and the --json document, on the tiny
/// engine fixtures (no timing thresholds: the numbers only have to be there and be consistent).
@Suite struct BenchCommandTests {
    static func fixture(_ name: String) -> String {
        SparrowBinary.repositoryRoot.appendingPathComponent("Tests/EngineTests/Fixtures/\(name)").path
    }

    @Test(arguments: [
        ([], "neither"),
        (["--kernels", "m.gguf"], "both"),
        (["m.gguf", "--prompt-tokens", "0"], "--prompt-tokens ≥ 1"),
        (["m.gguf", "--gen-tokens", "0"], "--gen-tokens ≥ 1"),
        (["m.gguf", "--parallel", "0"], "--parallel ≥ 1"),
        (["m.gguf", "--threads=-1"], "--threads ≥ 0"),
        (["m.gguf", "--repeat", "0"], "--repeat ≥ 1"),
        (["m.gguf", "--weights", "disk"], "expected --weights mapped, memory, repacked or auto, found 'disk'"),
        (["m.gguf", "--depth=-1"], "expected --depth ≥ 0, found -1"),
    ])
    func badArgumentsAreRefusedBeforeAnythingRuns(arguments: [String], message: String) throws {
        let result = try SparrowBinary.run(["bench"] + arguments)
        #expect(result.exitCode == 64)
        #expect(result.standardOutput.isEmpty)
        #expect(result.standardError.contains(message))
    }

    @Test func aMissingModelFileIsExitTwo() throws {
        let result = try SparrowBinary.run(["bench", "/nonexistent/model.gguf", "--repeat", "1"])
        #expect(result.exitCode == 2)
        #expect(result.standardError.contains("/nonexistent/model.gguf"))
        #expect(result.standardOutput.isEmpty)
    }

    @Test(arguments: ["qwen3moe-q-q4_k_m.gguf", "llama.gguf"])
    func jsonReportHasEveryMeasurement(model: String) throws {
        let result = try SparrowBinary.run([
            "bench", Self.fixture(model), "--prompt-tokens", "12", "--gen-tokens", "5", "--parallel", "3",
            "--threads", "2", "--repeat", "3", "--json",
        ])
        #expect(result.exitCode == 0, "\(result.standardError)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
        #expect(object["promptTokens"] as? Int == 12)
        #expect(object["generatedTokens"] as? Int == 5)
        #expect(object["parallel"] as? Int == 3)
        #expect(object["threads"] as? Int == 2)
        #expect(object["repeats"] as? Int == 3)
        #expect(object["routing"] as? String == "traced")
        #expect(object["weights"] as? String == "mapped")
        for key in ["prefill", "decode", "aggregateDecode"] {
            let measurement = try #require(object[key] as? [String: Any], "\(key)")
            let runs = try #require(measurement["runs"] as? [Double])
            #expect(runs.count == 3)
            #expect(runs.allSatisfy { $0 > 0 && $0.isFinite })
            let median = try #require(measurement["median"] as? Double)
            #expect(median == runs.sorted()[1])
            #expect(measurement["minimum"] as? Double == runs.min())
            #expect(measurement["maximum"] as? Double == runs.max())
        }
        let single = try #require(object["weightBytesPerToken"] as? Double)
        let aggregate = try #require(object["aggregateWeightBytesPerToken"] as? Double)
        let fileBytes = try #require(object["fileBytes"] as? Int)
        #expect(single > 0 && single < Double(fileBytes))
        // Three sequences share every dense tensor of a step: fewer bytes per token, never more.
        #expect(aggregate > 0 && aggregate < single)
        #expect((object["peakResidentBytes"] as? Int ?? 0) > 0)
        #expect((object["loadSeconds"] as? Double ?? -1) >= 0)
    }

    /// The weights read into memory or repacked instead of mapped: the same model, so the same routing and bytes per
    /// token (greedy decoding of the same bits).
    @Test func everyWeightsChoiceRunsTheSameModel() throws {
        func report(_ extra: [String]) throws -> [String: Any] {
            let result = try SparrowBinary.run([
                "bench", Self.fixture("qwen3moe-q-q4_k_m.gguf"), "--prompt-tokens", "6", "--gen-tokens", "4",
                "--parallel", "2", "--threads", "2", "--repeat", "1", "--json",
            ] + extra)
            #expect(result.exitCode == 0, "\(result.standardError)")
            return try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
        }
        let mapped = try report([])
        let memory = try report(["--weights", "memory"])
        let repacked = try report(["--weights", "repacked"])
        #expect(mapped["weights"] as? String == "mapped")
        #expect(memory["weights"] as? String == "memory")
        #expect(repacked["weights"] as? String == "repacked")
        #expect(mapped["repackedBytes"] as? Int == 0)
        // Repacked copies exist where the machine has their kernels (AVX2 or AVX-512 VNNI), and cost about the file's size.
        let copies = try #require(repacked["repackedBytes"] as? Int), fileBytes = try #require(mapped["fileBytes"] as? Int)
        let flags = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let kernels = flags.contains("avx512_vnni") && flags.contains("avx512bw")
        #expect(kernels ? copies > 0 && copies < 2 * fileBytes : copies == 0, "\(copies) bytes of copies")
        for key in ["weightBytesPerToken", "aggregateWeightBytesPerToken"] {
            let a = try #require(mapped[key] as? Double), b = try #require(memory[key] as? Double)
            let c = try #require(repacked[key] as? Double)
            #expect(a == b && a == c, "\(key)")
        }
    }

    /// Prefill and decode timed after a cache of `--depth` tokens, as llama-bench -d: on a transformer and on the
    /// hybrid qwen3next, whose recurrent state goes back to the depth through a snapshot each repetition.
    @Test(arguments: ["qwen3moe-q-q4_k_m.gguf", "qwen3next-a.gguf"])
    func decodeAfterADepthOfTokens(model: String) throws {
        let result = try SparrowBinary.run([
            "bench", Self.fixture(model), "--prompt-tokens", "4", "--gen-tokens", "3", "--parallel", "2",
            "--threads", "2", "--repeat", "2", "--depth", "40", "--json",
        ])
        #expect(result.exitCode == 0, "\(result.standardError)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
        #expect(object["depth"] as? Int == 40)
        #expect(result.standardError.contains("filling 3 caches with 40 tokens"))
        for key in ["prefill", "decode", "aggregateDecode"] {
            let runs = try #require((object[key] as? [String: Any])?["runs"] as? [Double], "\(key)")
            #expect(runs.count == 2 && runs.allSatisfy { $0 > 0 && $0.isFinite }, "\(key)")
        }
    }

    @Test func parallelOneSkipsTheAggregateMeasurement() throws {
        let result = try SparrowBinary.run([
            "bench", Self.fixture("qwen3.gguf"), "--prompt-tokens", "4", "--gen-tokens", "2", "--parallel", "1",
            "--repeat", "1", "--json",
        ])
        #expect(result.exitCode == 0, "\(result.standardError)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
        #expect(object["aggregateDecode"] == nil)
        #expect(object["aggregateWeightBytesPerToken"] == nil)
        #expect(object["decode"] is [String: Any])
    }

    @Test func textReportNamesEachMeasurement() throws {
        let result = try SparrowBinary.run([
            "bench", Self.fixture("qwen3moe-a.gguf"), "--prompt-tokens", "8", "--gen-tokens", "3", "--parallel", "2",
            "--repeat", "1",
        ])
        #expect(result.exitCode == 0, "\(result.standardError)")
        for label in ["prefill 8 tokens", "decode 3 tokens, 1 seq", "decode 3 tokens, 2 seqs", "weight bytes per generated token",
                      "peak resident memory", "× single (the bytes read allow "] {
            #expect(result.standardOutput.contains(label), "\(label)")
        }
    }
}
