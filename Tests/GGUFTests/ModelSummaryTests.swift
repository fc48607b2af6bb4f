import Foundation
import GGUF
import Testing

/// `sparrow model info`'s content (GGUFModelSummary) on the committed MoE-shaped fixture, checked against what
/// gguf-py's GGUFReader read from the same file.
@Suite("GGUF model summary")
struct ModelSummaryTests {
    private let file: GGUFFile
    private let reference: ReaderDump

    init() throws {
        file = try GGUFFile(contentsOf: fixturesDirectory.appendingPathComponent("tiny-v3.gguf"))
        reference = try ReaderDump.load(fixturesDirectory.appendingPathComponent("tiny-v3.reader.json"))
    }

    @Test("architecture, parameters, sizes, experts and counts by type")
    func headline() throws {
        let summary = try GGUFModelSummary(file)
        #expect(summary.architecture == "qwen3moe")
        #expect(summary.expertCount == 4)
        #expect(summary.expertUsedCount == 2)
        #expect(summary.fileSize == (try Data(contentsOf: fixturesDirectory.appendingPathComponent("tiny-v3.gguf"))).count)
        #expect(summary.parameterCount == reference.tensors.reduce(0) { $0 + $1.shape.reduce(1, *) })
        let counts = reference.tensors.reduce(into: [String: Int]()) { $0[$1.type, default: 0] += 1 }
        #expect(summary.tensorCountsByType == counts)
        let text = summary.text()
        #expect(text.contains("experts: 4, used per token: 2"))
        #expect(text.contains("architecture: qwen3moe"))
    }

    @Test("the JSON document lists gguf-py's tensor names, shapes and types, and summarises long arrays")
    func json() throws {
        let document = try JSONSerialization.jsonObject(with: try GGUFModelSummary(file).json())
        let root = try #require(document as? [String: Any])
        let tensors = try #require(root["tensors"] as? [[String: Any]])
        #expect(tensors.compactMap { $0["name"] as? String } == reference.tensors.map(\.name))
        #expect(tensors.compactMap { $0["type"] as? String } == reference.tensors.map(\.type))
        #expect(tensors.compactMap { $0["shape"] as? [Int] } == reference.tensors.map(\.shape))
        let metadata = try #require(root["metadata"] as? [[String: Any]])
        #expect(metadata.compactMap { $0["key"] as? String } == reference.metadata.map(\.key))
        let tokens = try #require(metadata.first { $0["key"] as? String == "tokenizer.ggml.tokens" })
        let value = try #require(tokens["value"] as? [String: Any])
        #expect(value["count"] as? Int == 40)
        #expect(value["element_type"] as? String == "STRING")
        let first = try #require(value["first"] as? [String])
        guard case .list(let all) = try #require(reference.metadata.first { $0.key == "tokenizer.ggml.tokens" }).value
        else { Issue.record("tokens are not a list in the reference dump"); return }
        #expect(first.map(JSONLeaf.string) == Array(all.prefix(GGUFModelSummary.arrayPreviewLimit)))
        let short = try #require(metadata.first { $0["key"] as? String == "test.array.strings" })
        #expect(short["value"] as? [String] == ["<|endoftext|>", "", "Ġt", "ünï ✓"])
    }
}
