import Foundation
import TestSupport
import Testing

/// Pipelines/tekton against JSON Schemas made from Tekton's own CRDs (Fixtures/README.md), with check-jsonschema;
/// each with a broken copy that must be rejected.
@Suite("Tekton")
struct TektonTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    @Test("the Task and the Pipeline are valid tekton.dev/v1 resources", arguments: [
        ("Pipelines/tekton/sparrow-task.yaml", "tekton-v1-Task.schema.json", "runAsNonRoot:", "runAsNonRot:"),
        ("Pipelines/tekton/sparrow-pipeline.yaml", "tekton-v1-Pipeline.schema.json", "runAfter:", "runAftr:"),
    ])
    func valid(file path: String, schema name: String, field: String, misspelt: String) throws {
        let file = try Validators.file(path)
        let schema = Self.fixtures.appendingPathComponent(name)
        #expect(FileManager.default.fileExists(atPath: schema.path), "missing fixture \(schema.path)")
        let result = try Validators.run(.checkJSONSchema, ["--schemafile", schema.path, file.path])
        #expect(result.exitCode == 0, "check-jsonschema rejected \(path):\n\(Validators.transcript(result))")

        let text = try String(contentsOf: file, encoding: .utf8)
        #expect(text.contains(field), "\(path) no longer contains \(field)")
        let scratch = try TemporaryDirectory(prefix: "sparrow-tekton")
        defer { scratch.remove() }
        let broken = try scratch.write(text.replacingOccurrences(of: field, with: misspelt), to: "broken.yaml")
        let rejected = try Validators.run(.checkJSONSchema, ["--schemafile", schema.path, broken.path])
        #expect(rejected.exitCode != 0, "\(name) accepted \(misspelt):\n\(Validators.transcript(rejected))")
    }
}
