import Foundation
import Engine
import GGUF
import Jobs
import Kernels
@testable import Runner
import TestSupport
import Testing

/// `sparrow validate --deep`'s model checks against the memory this process may use.
@Suite struct DeepValidationTests {
    /// The repository's smallest engine fixture, a valid GGUF file.
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("EngineTests/Fixtures/qwen3.gguf")

    /// Problems `--deep` finds for a spec whose model is the fixture grown (sparse, nothing written) to `size`
    /// bytes, with `weights` (and `model.memory` in bytes when given).
    static func problems(modelSize size: UInt64, weights: String, memory: Int? = nil) throws -> [String] {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-deep-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = folder.appendingPathComponent("model.gguf")
        try FileManager.default.copyItem(at: fixture, to: model)
        let handle = try FileHandle(forWritingTo: model)
        try handle.truncate(atOffset: size)
        try handle.close()
        let budget = memory.map { ", memory: \($0)" } ?? ""
        let text = "version: 1\nmodel: {path: model.gguf, weights: \(weights)\(budget)}\ntasks: [{id: a, kind: review}]\n"
        let loaded = try SpecLoader.decode(Array(text.utf8), file: folder.appendingPathComponent("s.yaml").path,
                                           baseDirectory: folder.path)
        return DeepValidation.problems(loaded, environment: [:], workingDirectory: folder.path)
    }

    @Test func weightsInMemoryLargerThanTheMachineAreAProblem() throws {
        let terabyte: UInt64 = 1 << 40
        let memory = try Self.problems(modelSize: terabyte, weights: "memory")
        #expect(memory.contains { $0.hasPrefix("model.weights: memory: the model (1048576 MiB) held in memory is more than three quarters") },
                "\(memory)")
        // Mapped, the same file is the other check: file plus cache budget against RAM, named as the default budget.
        let mapped = try Self.problems(modelSize: terabyte, weights: "mapped")
        #expect(!mapped.contains { $0.hasPrefix("model.weights") })
        #expect(mapped.contains { $0.hasPrefix("the model (1048576 MiB) plus the default cache budget") }, "\(mapped)")
    }

    /// `auto` is checked as what it chooses: a file too large to hold in memory is mapped, so the only problem left
    /// is the mapped one (file plus cache budget against RAM), and a small one is no problem at all.
    @Test func autoIsCheckedAsItsChoice() throws {
        let terabyte: UInt64 = 1 << 40
        let large = try Self.problems(modelSize: terabyte, weights: "auto")
        #expect(!large.contains { $0.hasPrefix("model.weights") }, "\(large)")
        #expect(large.contains { $0.hasPrefix("the model (1048576 MiB) plus the default cache budget") }, "\(large)")
        let size = UInt64(try FileManager.default.attributesOfItem(atPath: Self.fixture.path)[.size] as? Int ?? 0)
        let small = try Self.problems(modelSize: size, weights: "auto")
        #expect(!small.contains { $0.contains("model") && $0.contains("MiB") }, "\(small)")
    }

    /// Where each choice keeps the file: `repacked` reads it into memory as well (1-row products read its ggml rows).
    @Test func weightsChoicesStorage() {
        #expect(ModelWeights.mapped.storage == .mapped && !ModelWeights.mapped.repack && ModelWeights.mapped.heldCopies == 0)
        #expect(ModelWeights.memory.storage == .memory && !ModelWeights.memory.repack && ModelWeights.memory.heldCopies == 1)
        #expect(ModelWeights.repacked.storage == .memory && ModelWeights.repacked.repack)
        #expect(ModelWeights.repacked.heldCopies == (WeightRepacker.isAvailable ? 2 : 1))
    }

    /// The problems of a spec whose model is a sparse GGUF file of `tensors` (`GGUFBuilder.writeSparseModel`).
    static func problems(tensors: [(name: String, type: GGMLType, dimensions: [Int])], weights: String,
                         memory: Int? = nil) throws -> (problems: [String], fileBytes: Int) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-deep-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = folder.appendingPathComponent("model.gguf")
        try GGUFBuilder.writeSparseModel(to: model, tensors: tensors)
        let size = try FileManager.default.attributesOfItem(atPath: model.path)[.size] as? Int ?? 0
        let budget = memory.map { ", memory: \($0)" } ?? ""
        let text = "version: 1\nmodel: {path: model.gguf, weights: \(weights)\(budget)}\ntasks: [{id: a, kind: review}]\n"
        let loaded = try SpecLoader.decode(Array(text.utf8), file: folder.appendingPathComponent("s.yaml").path,
                                           baseDirectory: folder.path)
        return (DeepValidation.problems(loaded, environment: [:], workingDirectory: folder.path), size)
    }

    /// One Q6_K matrix of `bytes` (rows of 4,096 values: 3,360 bytes): its originals stay beside their copies.
    static func q6KMatrix(bytes: Int) -> [(name: String, type: GGMLType, dimensions: [Int])] {
        [("blk.0.attn_q.weight", .q6_K, [4096, bytes / 3360 / 16 * 16])]
    }

    /// `repacked` holds the file and the copies (less the Q4_K experts' originals) where the copies are made.
    @Test(.enabled(if: WeightRepacker.isAvailable))
    func repackedWeightsCountTheirCopies() throws {
        let tensors = Self.q6KMatrix(bytes: ResidentMemory.weightsInMemoryLimitBytes() / 3 * 2)  // once within, twice over
        let memory = try Self.problems(tensors: tensors, weights: "memory").problems
        #expect(!memory.contains { $0.hasPrefix("model.weights") }, "\(memory)")
        let (repacked, size) = try Self.problems(tensors: tensors, weights: "repacked")
        #expect(repacked.contains { $0.hasPrefix("model.weights: repacked: the model (\(size >> 20) MiB) held with its repacked copies (") && $0.contains("MiB) in memory is more than three quarters") },
                "\(repacked)")
    }

    /// The memory this process may use (RAM, or its cgroup limit) must hold `repacked`'s copies beside the file and
    /// the cache budget.
    @Test(.enabled(if: WeightRepacker.isAvailable))
    func repackedCopiesAndBudgetAgainstTheMachine() throws {
        let physical = ResidentMemory.limitBytes()
        let tensors = Self.q6KMatrix(bytes: ResidentMemory.weightsInMemoryLimitBytes() / 3)  // twice within the ¾ rule
        let (_, size) = try Self.problems(tensors: tensors, weights: "memory")
        let budget = physical - size - size / 2  // once plus the budget fits the machine, twice does not
        let memory = try Self.problems(tensors: tensors, weights: "memory", memory: budget).problems
        #expect(!memory.contains { $0.hasPrefix("the model") || $0.hasPrefix("model.weights") }, "\(memory)")
        let repacked = try Self.problems(tensors: tensors, weights: "repacked", memory: budget).problems
        #expect(repacked.contains { $0.hasPrefix("the model (\(size >> 20) MiB, ") && $0.contains("MiB with its repacked copies) plus model.memory") },
                "\(repacked)")
    }

    @Test func aSmallModelInMemoryIsNoProblem() throws {
        let size = UInt64(try FileManager.default.attributesOfItem(atPath: Self.fixture.path)[.size] as? Int ?? 0)
        let problems = try Self.problems(modelSize: size, weights: "memory")
        #expect(!problems.contains { $0.contains("model") && $0.contains("MiB") }, "\(problems)")
    }
}
