import Foundation
import GGUF
import Kernels
import Testing
@testable import Engine
import TestSupport

/// Model data problems are errors naming what was expected and where, never crashes.
@Suite("Model loading")
struct ModelLoaderTests {
    /// The fixture `name` rewritten with `edit` applied to its tensors (name, dimensions) and metadata.
    static func rewritten(_ name: String, architecture: String? = nil,
                          edit: (String, [Int]) -> (String, [Int])?) throws -> GGUFFile
    {
        let source = try GGUFFile(contentsOf: URL(fileURLWithPath: try ModelFixture.named(name).modelPath))
        var writer = try GGUFWriter()
        for entry in source.metadata.entries {
            if entry.key == "general.architecture", let architecture {
                try writer.set(entry.key, .string(architecture))
            } else {
                try writer.set(entry.key, entry.value)
            }
        }
        for info in source.tensors {
            guard let (newName, dims) = edit(info.name, info.dimensions) else { continue }
            let view = try source.view(of: info)
            var data = Data(view.bytes)
            let needed = dims.reduce(1, *) / info.type.blockSize * info.type.bytesPerBlock
            if data.count != needed { data = Data(count: needed) }
            try writer.addTensor(name: newName, dimensions: dims, type: info.type, data: data)
        }
        return try GGUFFile(bytes: writer.serialized())
    }

    @Test("weights read into memory: the loader reads them so, and the logits keep the mapped file's bits",
          arguments: ["qwen3moe-q-q4_k_m", "qwen3next-a"])
    func weightsInMemory(name: String) throws {
        let fixture = try ModelFixture.named(name)
        let mapped = try ModelLoader.load(path: fixture.modelPath, threads: 2)
        let memory = try ModelLoader.load(path: fixture.modelPath, threads: 2, storage: .memory)
        #expect(mapped.weights == .mapped)
        #expect(memory.weights == .memory)
        #expect(memory.identity == mapped.identity)
        let prompt = Array(fixture.sequences[0].prefix(16))
        let a = try allLogits(mapped.model, prompt).map { $0.map(\.bitPattern) }
        let b = try allLogits(memory.model, prompt).map { $0.map(\.bitPattern) }
        #expect(a == b)
        #expect(a.count == prompt.count && a.allSatisfy { !$0.isEmpty })
    }

    @Test("repacked weights: copies made for the Q4_K/Q6_K matrices, and prefill and decode logits keep the mapped file's bits",
          .enabled(if: WeightRepacker(pool: nil).hasKernel(for: .q4_K)),
          arguments: ["qwen3moe-q-q4_k_m", "qwen3next-q-q4_k_m"])
    func repackedWeights(name: String) throws {
        let fixture = try ModelFixture.named(name)
        let mapped = try ModelLoader.load(path: fixture.modelPath, threads: 2)
        // As `model.weights: repacked` loads it: the file in memory (1-row Q6_K products read its ggml rows) and copies;
        // the Q4_K experts are marked as having given back their ggml rows, so a product that would read them throws.
        let repacked = try ModelLoader.load(path: fixture.modelPath, threads: 2, storage: .memory, repack: true)
        #expect(mapped.repackedBytes == 0)
        #expect(repacked.repackedBytes > 0 && repacked.weights == .memory)
        let prompt = Array(fixture.sequences[0].prefix(16))
        // Prefill (16 rows per product) and then greedy decoding one token per step.
        let a = try allLogits(mapped.model, prompt).map { $0.map(\.bitPattern) }
        let b = try allLogits(repacked.model, prompt).map { $0.map(\.bitPattern) }
        let prefillSame = a == b  // compared outside #expect: a failure would print every logit
        #expect(prefillSame, "\(name): prefill logits differ with repacked weights")
        #expect(try greedy(mapped.model, prompt: prompt, count: 8) == greedy(repacked.model, prompt: prompt, count: 8))
        let single = try allLogits(repacked.model, [prompt[0]]).map { $0.map(\.bitPattern) }
        let singleSame = single == [a[0]]
        #expect(singleSame, "\(name): one-token logits differ with repacked weights")
    }

    @Test("weights in memory: a file larger than the memory this process may use is refused before any read")
    func weightsInMemoryTooLarge() throws {
        try Self.withSparseModel(size: 1 << 40) { model throws in
            let error = #expect(throws: EngineError.self) { try ModelLoader.load(path: model.path, threads: 1, storage: .memory) }
            #expect("\(error.map { "\($0)" } ?? "")".contains("the file is 1099.5 GB and this choice holds it 1× in memory, more than three quarters"))
            // Mapped, the same file loads: its header is valid and nothing past the tensors is read.
            #expect(try ModelLoader.load(path: model.path, threads: 1).weights == .mapped)
        }
    }

    @Test("a model reached through a symbolic link is sized by the file it points to")
    func symbolicLinkIsFollowed() throws {
        try Self.withSparseModel(size: 1 << 40) { model throws in
            let link = model.deletingLastPathComponent().appendingPathComponent("link.gguf")
            try FileManager.default.createSymbolicLink(at: link, withDestinationURL: model)
            #expect(ModelLoader.fileBytes(atPath: link.path) == 1 << 40)
            let error = #expect(throws: EngineError.self) { try ModelLoader.load(path: link.path, threads: 1, storage: .memory) }
            #expect("\(error.map { "\($0)" } ?? "")".contains("the file is 1099.5 GB and this choice holds it 1× in memory"))
        }
        #expect(ModelLoader.fileBytes(atPath: "/nonexistent/model.gguf") == nil)
    }

    @Test("repacked weights in memory: a file that fits once but not with its copies is refused before any read",
          .enabled(if: WeightRepacker.isAvailable))
    func repackedTwiceTooLarge() throws {
        // One Q6_K matrix of two thirds of the limit: its copy (Q6_K originals are kept) takes the load over it.
        let rows = ResidentMemory.weightsInMemoryLimitBytes() / 3 * 2 / (16 * 210) / 16 * 16
        try Self.withSparseMatrices([("blk.0.attn_q.weight", .q6_K, [4096, rows])]) { model throws in
            #expect(ModelLoader.heldWeightCopies(storage: .memory, repack: true) == 2)
            #expect(ModelLoader.heldWeightCopies(storage: .memory, repack: false) == 1)
            #expect(ModelLoader.heldWeightCopies(storage: .mapped, repack: false) == 0)
            let error = #expect(throws: EngineError.self) {
                try ModelLoader.load(path: model.path, threads: 1, storage: .memory, repack: true)
            }
            #expect("\(error.map { "\($0)" } ?? "")".contains("(the file and its repacked copies), more than three quarters"))
        }
    }

    /// Runs `body` on a sparse GGUF file of `tensors` (`GGUFBuilder.writeSparseModel`) in a temporary folder.
    static func withSparseMatrices(_ tensors: [(name: String, type: GGMLType, dimensions: [Int])],
                                   _ body: (URL) throws -> Void) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-sparse-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = folder.appendingPathComponent("model.gguf")
        try GGUFBuilder.writeSparseModel(to: model, tensors: tensors)
        try body(model)
    }

    /// Runs `body` on a copy of the qwen3 fixture grown to `size` bytes (sparse: nothing past the fixture is
    /// written), in a temporary folder removed afterwards.
    static func withSparseModel(size: UInt64, _ body: (URL) throws -> Void) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-sparse-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = folder.appendingPathComponent("model.gguf")
        try FileManager.default.copyItem(at: URL(fileURLWithPath: try ModelFixture.named("qwen3").modelPath), to: model)
        let handle = try FileHandle(forWritingTo: model)
        try handle.truncate(atOffset: size)
        try handle.close()
        try body(model)
    }

    @Test("a wrong shape names the tensor, the expected and the found shape")
    func wrongShape() throws {
        let file = try Self.rewritten("qwen3moe-a") { name, dims in
            name == "blk.0.attn_q.weight" ? (name, [dims[0], dims[1] / 2]) : (name, dims)
        }
        #expect(throws: EngineError.tensor(name: "blk.0.attn_q.weight", reason: "expected [64, 64], found [64, 32]")) {
            _ = try ModelLoader.makeModel(file, path: "test.gguf", pool: nil)
        }
        let message = EngineError.tensor(name: "blk.0.attn_q.weight", reason: "expected [64, 64], found [64, 32]").description
        #expect(message == "tensor blk.0.attn_q.weight: expected [64, 64], found [64, 32]")
    }

    @Test("a missing tensor is named")
    func missingTensor() throws {
        let file = try Self.rewritten("qwen3moe-a") { name, dims in name == "blk.1.ffn_down_exps.weight" ? nil : (name, dims) }
        do {
            _ = try ModelLoader.makeModel(file, path: "test.gguf", pool: nil)
            Issue.record("expected an error for the missing tensor")
        } catch {
            #expect(error.description.hasPrefix("tensor blk.1.ffn_down_exps.weight: expected [16, 64, 6], found no such tensor"))
        }
    }

    @Test("an unknown architecture names itself and lists the supported ones")
    func unknownArchitecture() throws {
        let file = try Self.rewritten("llama", architecture: "mamba") { ($0, $1) }
        do {
            _ = try ModelLoader.makeModel(file, path: "x.gguf", pool: nil)
            Issue.record("expected an error for architecture mamba")
        } catch {
            #expect(error.description == "x.gguf: architecture 'mamba' is not supported (expected one of: llama, qwen3, qwen3moe, qwen3next)")
        }
    }

    @Test("identity: stable for one file, different for another")
    func identity() throws {
        let a = try loadFixtureModel(try ModelFixture.named("llama").modelPath)
        let b = try loadFixtureModel(try ModelFixture.named("llama").modelPath)
        let c = try loadFixtureModel(try ModelFixture.named("qwen3").modelPath)
        #expect(a.identity == b.identity)
        #expect(a.identity != c.identity)
        #expect(a.identity.hasPrefix("sha256:") && a.identity.hasSuffix(":\(a.fileSize)"))
    }

    @Test("a state refuses tokens past its capacity")
    func capacity() throws {
        let model = try loadFixtureModel(try ModelFixture.named("llama").modelPath).model
        let state = try model.makeState(capacity: 2)
        #expect(throws: EngineError.self) { _ = try model.forward([ForwardItem(state: state, tokens: [1, 2, 3])], allPositions: false) }
        #expect(state.length == 0)
    }
}
