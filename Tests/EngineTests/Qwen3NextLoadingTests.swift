import Foundation
import GGUF
import Testing
@testable import Engine

/// How qwen3next files are read: which layers are recurrent (the per-layer array the converter writes, else the
/// full-attention interval), and errors that name what is missing.
@Suite("qwen3next loading")
struct Qwen3NextLoadingTests {
    /// qwen3next-a with its metadata and tensors passed through `keep` / `tensor`.
    static func rewritten(keep: (String) -> Bool = { _ in true }, extra: [(String, GGUFValue)] = [],
                          tensor: (String) -> Bool = { _ in true }) throws -> GGUFFile
    {
        let source = try GGUFFile(contentsOf: URL(fileURLWithPath: try ModelFixture.named("qwen3next-a").modelPath))
        var writer = try GGUFWriter()
        for entry in source.metadata.entries where keep(entry.key) { try writer.set(entry.key, entry.value) }
        for (key, value) in extra { try writer.set(key, value) }
        for info in source.tensors where tensor(info.name) {
            try writer.addTensor(name: info.name, dimensions: info.dimensions, type: info.type,
                                 data: Data(try source.view(of: info).bytes))
        }
        return try GGUFFile(bytes: writer.serialized())
    }

    @Test("without attention.recurrent_layers, full_attention_interval decides, with the same logits")
    func interval() throws {
        let fixture = try ModelFixture.named("qwen3next-a")
        let original = try loadFixtureModel(fixture.modelPath).model
        let dropped: Set = ["qwen3next.attention.recurrent_layers", "qwen3next.full_attention_interval"]
        let file = try Self.rewritten(keep: { !dropped.contains($0) },
                                      extra: [("qwen3next.full_attention_interval", .uint32(4))])
        #expect(file.metadata["qwen3next.attention.recurrent_layers"] == nil)
        let model = try ModelLoader.makeModel(file, path: "interval.gguf", pool: nil)
        let tokens = Array(fixture.sequences[0].prefix(20))
        #expect(try allLogits(model, tokens).map { $0.map(\.bitPattern) }
                == allLogits(original, tokens).map { $0.map(\.bitPattern) })
        // Another interval makes other layers recurrent, whose tensors the file does not have.
        let wrong = try Self.rewritten(keep: { !dropped.contains($0) },
                                       extra: [("qwen3next.full_attention_interval", .uint32(2))])
        #expect(throws: EngineError.self) { _ = try ModelLoader.makeModel(wrong, path: "wrong.gguf", pool: nil) }
    }

    @Test("a linear layer without its input projection names the tensors it expected")
    func missingProjection() throws {
        let file = try Self.rewritten(tensor: { !$0.hasPrefix("blk.1.attn_qkv") && !$0.hasPrefix("blk.1.attn_gate") })
        do {
            _ = try ModelLoader.makeModel(file, path: "cut.gguf", pool: nil)
            Issue.record("expected an error for the missing projection")
        } catch {
            #expect(error.description.contains("blk.1.attn_qkv.weight"))
            #expect(error.description.contains("ssm_in"))
        }
    }
}
