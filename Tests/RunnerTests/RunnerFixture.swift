import Foundation
import Generation
import Runner
import TestSupport

/// A temporary repository, spec and output folder for end-to-end runs.
struct RunnerFixture {
    let repository: GitRepository
    let folder: TemporaryDirectory

    init() throws {
        repository = try GitRepository()
        folder = try TemporaryDirectory(prefix: "sparrow-run")
    }

    func remove() {
        repository.remove()
        folder.remove()
    }

    /// Writes a spec whose repository is the fixture's and returns its path.
    @discardableResult
    func spec(_ body: String, name: String = "jobs.yaml") throws -> String {
        let text = "version: 1\nmodel: {path: model.gguf, parallel: 3, context: 4096}\nrepository: \(repository.url.path)\n" + body
        return try folder.write(text, to: name).path
    }

    func options(_ spec: String, out: String = "out", resume: Bool = false, shard: Shard? = nil, dryRun: Bool = false,
                 baseline: String? = nil, environment: [String: String] = [:]) -> RunOptions {
        RunOptions(
            specPath: spec, outputDirectory: folder.url.appendingPathComponent(out).path, shard: shard, resume: resume,
            dryRun: dryRun, baseline: baseline, environment: environment, workingDirectory: folder.url.path
        )
    }

    func run(_ options: RunOptions, generator: any TextGenerating, reporter: RecordingReporter = RecordingReporter()) async throws -> RunResult {
        try await JobRunner.run(options, makeGenerator: { _ in generator }, reporter: reporter)
    }

    func output(_ out: String, _ file: String) -> Data? {
        FileManager.default.contents(atPath: folder.url.appendingPathComponent(out).appendingPathComponent(file).path)
    }

    /// Numbered lines `line 1` … `line n`.
    static func lines(_ count: Int, prefix: String = "line") -> String {
        (1...count).map { "\(prefix) \($0)" }.joined(separator: "\n") + "\n"
    }
}
