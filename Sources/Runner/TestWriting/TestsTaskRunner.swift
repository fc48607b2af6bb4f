import Annotations
import Foundation
import Generation
import Git
import Jobs

/// Runs one tests task (DESIGN.md §7): for the source files changed in base..head, ask for candidate test files
/// under `test_dir`, and keep a candidate only if it passes `run` in the sandbox `repeats` times on head **and**
/// catches something: it fails with the changed files put back to base, or with one mutant of a changed line.
/// Base and mutants are swapped into the same worktree, so the build folder `setup` left is reused.
struct TestsTaskRunner {
    let task: TaskSpec
    let tests: TestsTask
    let repository: Repository
    let base: ObjectID
    let head: ObjectID
    let generator: any TextGenerating
    let gate: RequestGate
    let sandbox: CommandSandbox

    struct Outcome {
        var status: TaskOutcome.Status
        var detail: String
        var candidates: [TestCandidate] = []
        var files: [EmittedFile] = []
        var mail: String?
        var requests = 0
        var usage = TokenUsage()
    }

    /// A source file changed in base..head.
    struct Changed {
        var path: String
        var headText: String
        /// Nil when head added the file.
        var baseText: String?
        var addedLines: [Int]
        var diff: String
    }

    static let outputBytes = 4000

    func run() async throws -> Outcome {
        var testDirectory = tests.testDirectory ?? "tests"
        while testDirectory.hasSuffix("/") { testDirectory.removeLast() }
        if let problem = EditGuard.problem(with: testDirectory) {
            return Outcome(status: .error, detail: "test_dir: \(problem)")
        }
        let changed = try changedFiles(excluding: testDirectory)
        if changed.isEmpty {
            return Outcome(status: .noChange, detail: "no source file outside \(testDirectory)/ changed in \(base.abbreviated())..\(head.abbreviated())")
        }

        let checkout = try repository.checkout(head.hex)
        defer { try? checkout.remove() }
        let editGuard = EditGuard(root: checkout.directory, maxBytes: TestsSchema.maxContent * 4)
        if let setup = tests.setup {
            let result = try await sandbox.runSetup(setup, in: checkout.directory)
            if !result.succeeded {
                return Outcome(status: .error, detail: "setup `\(setup)` failed (\(result.summary)):\n\(result.tail(Self.outputBytes))")
            }
        }

        let settings = task.generation
        let request = GenerationRequest(
            id: "\(task.id)/candidates",
            prompt: TestsPrompt.prompt(
                changed: changed.map { ($0.path, $0.headText, $0.diff) }, testDirectory: testDirectory,
                example: example(in: checkout.directory, testDirectory: testDirectory), run: tests.run
            ),
            maxTokens: settings.maxTokens,
            sampling: SamplingParameters(temperature: settings.temperature, topP: settings.topP, topK: settings.topK, seed: settings.seed),
            stop: settings.stop,
            constraint: .jsonSchema(name: "test_candidates", schema: TestsSchema.schema(testDirectory: testDirectory))
        )
        await gate.acquire()
        let response: GenerationResponse
        do throws(GenerationError) {
            response = try await generator.generate(request)
        } catch {
            await gate.release()
            return Outcome(status: .error, detail: "generation failed: \(error)")
        }
        await gate.release()
        var outcome = Outcome(status: .failed, detail: "", requests: 1, usage: response.usage)
        let parsed = TestsAnswer.parse(response.text)
        guard let answer = parsed.answer else {
            outcome.detail = "unusable answer: \(parsed.problem ?? "")"
            return outcome
        }

        var mutants: [Mutants.Mutant] = []
        for file in changed where mutants.count < Mutants.limit {
            mutants += Mutants.make(path: file.path, text: file.headText, lines: file.addedLines, limit: Mutants.limit - mutants.count)
        }
        let repeats = max(1, tests.repeats)
        var baseline: Baseline?
        for candidate in answer.candidates {
            let path = candidate.path
            var record = TestCandidate(path: path, kept: false, reason: "")
            if let refusal = refusal(path, bytes: candidate.content.utf8.count, testDirectory: testDirectory, editGuard: editGuard, taken: outcome.candidates.map(\.path)) {
                record.reason = "refused: \(refusal)"
                outcome.candidates.append(record)
                continue
            }
            if let refusal = editGuard.write(candidate.content, to: path) {
                record.reason = "refused: \(refusal.reason)"
                outcome.candidates.append(record)
                continue
            }
            defer { try? FileManager.default.removeItem(at: checkout.directory.appendingPathComponent(path)) }

            var failure: CommandResult?
            for _ in 0..<repeats {
                let result = try await runTests(in: checkout.directory)
                record.sandboxLimits = SandboxLimits(tests.sandboxLimits)
                record.runs += 1
                if result.succeeded { record.passedRuns += 1 } else if failure == nil { failure = result }
            }
            if record.passedRuns == 0 {
                record.reason = "does not build or fails on head (\(failure?.summary ?? "?"))"
                record.output = failure?.tail(Self.outputBytes)
            } else if record.passedRuns < repeats {
                record.reason = "flaky: passed \(record.passedRuns) of \(repeats) runs"
                record.output = failure?.tail(Self.outputBytes)
            } else {
                if baseline == nil {
                    // What the existing tests alone catch; a candidate is credited only beyond that.
                    try? FileManager.default.removeItem(at: checkout.directory.appendingPathComponent(path))
                    baseline = try await measureBaseline(changed: changed, mutants: mutants, editGuard: editGuard, directory: checkout.directory)
                    _ = editGuard.write(candidate.content, to: path)
                }
                try await judge(
                    &record, changed: changed, baseline: baseline ?? Baseline(failsOnBase: true, survivors: []),
                    editGuard: editGuard, directory: checkout.directory
                )
                if record.kept { outcome.files.append(EmittedFile(path: path, text: candidate.content)) }
            }
            outcome.candidates.append(record)
        }

        guard !outcome.files.isEmpty else {
            let reasons = outcome.candidates.map { "\($0.path): \($0.reason)" }.joined(separator: "; ")
            outcome.detail = "no candidate kept (\(outcome.candidates.count) proposed): \(reasons)"
            return outcome
        }
        outcome.mail = try PatchMail.make(
            repository: repository, base: head, files: outcome.files.map { ($0.path, $0.text) }, taskID: task.id,
            message: "sparrow: \(task.id): tests for \(base.abbreviated())..\(head.abbreviated())\n\nKept: "
                + outcome.candidates.filter(\.kept).map { "\($0.path) (\($0.reason))" }.joined(separator: ", ") + "\n"
        )
        outcome.status = .ok
        return outcome
    }

    /// Runs `run` in the sandbox under the task's `sandbox_limits`.
    private func runTests(in directory: URL) async throws(SandboxFailure) -> CommandResult {
        try await sandbox.run(tests.run, in: directory, limits: SandboxLimits(tests.sandboxLimits))
    }

    /// What the existing tests catch without any candidate.
    struct Baseline {
        /// The existing tests already fail on base, so failing there proves nothing about a candidate.
        var failsOnBase: Bool
        /// The mutants the existing tests do not catch.
        var survivors: [Mutants.Mutant]
    }

    private func measureBaseline(changed: [Changed], mutants: [Mutants.Mutant], editGuard: EditGuard, directory: URL) async throws -> Baseline {
        // Without candidates the command may fail even on head (no tests yet, a glob that matches nothing): then
        // the existing tests catch nothing, and every mutant counts.
        guard try await runTests(in: directory).succeeded else {
            return Baseline(failsOnBase: false, survivors: mutants)
        }
        let onBase = try await runOnBase(changed: changed, editGuard: editGuard, directory: directory)
        var survivors: [Mutants.Mutant] = []
        for mutant in mutants {
            if try await runOnMutant(mutant, changed: changed, editGuard: editGuard, directory: directory).succeeded {
                survivors.append(mutant)
            }
        }
        return Baseline(failsOnBase: !onBase.succeeded, survivors: survivors)
    }

    /// Runs the tests with the changed files put back to base, then restores head.
    private func runOnBase(changed: [Changed], editGuard: EditGuard, directory: URL) async throws -> CommandResult {
        for file in changed {
            if let baseText = file.baseText {
                _ = editGuard.write(baseText, to: file.path)
            } else {
                try? FileManager.default.removeItem(at: directory.appendingPathComponent(file.path))
            }
        }
        defer { for file in changed { _ = editGuard.write(file.headText, to: file.path) } }
        return try await runTests(in: directory)
    }

    /// Runs the tests with `mutant` in place, then restores head.
    private func runOnMutant(_ mutant: Mutants.Mutant, changed: [Changed], editGuard: EditGuard, directory: URL) async throws -> CommandResult {
        guard let original = changed.first(where: { $0.path == mutant.path })?.headText else {
            return CommandResult(exitCode: 0, timedOut: false, output: "")
        }
        _ = editGuard.write(mutant.text, to: mutant.path)
        defer { _ = editGuard.write(original, to: mutant.path) }
        return try await runTests(in: directory)
    }

    /// Decides whether a candidate that passes on head catches something the existing tests do not: base first,
    /// then each mutant those tests let survive.
    private func judge(
        _ record: inout TestCandidate, changed: [Changed], baseline: Baseline, editGuard: EditGuard, directory: URL
    ) async throws {
        let onBase = try await runOnBase(changed: changed, editGuard: editGuard, directory: directory)
        if !onBase.succeeded && !baseline.failsOnBase {
            record.kept = true
            record.reason = "fails on base (\(onBase.summary))"
            record.output = onBase.tail(Self.outputBytes)
            return
        }
        if tests.mustFailOnBase {
            record.reason = "passes on base (must_fail_on_base is set)"
            return
        }
        for mutant in baseline.survivors {
            let result = try await runOnMutant(mutant, changed: changed, editGuard: editGuard, directory: directory)
            if !result.succeeded {
                record.kept = true
                record.reason = "kills mutant \(mutant.label)"
                record.output = result.tail(Self.outputBytes)
                return
            }
        }
        record.reason = "catches nothing: passes on base and on all \(baseline.survivors.count) mutants of the changed lines that the existing tests miss"
    }

    /// Why a candidate path may not be used, or nil.
    private func refusal(_ path: String, bytes: Int, testDirectory: String, editGuard: EditGuard, taken: [String]) -> String? {
        if let problem = editGuard.refusal(path: path, bytes: bytes) { return problem }
        guard path.hasPrefix(testDirectory + "/") else { return "'\(path)' is not under test_dir \(testDirectory)/" }
        if taken.contains(path) { return "'\(path)' was proposed twice" }
        var info = stat()
        if lstat(editGuard.root.appendingPathComponent(path).path, &info) == 0 {
            return "'\(path)' exists in head (candidates are new files)"
        }
        return nil
    }

    /// The source files head changed, outside the test folder, with their base text and added lines.
    private func changedFiles(excluding testDirectory: String) throws -> [Changed] {
        let diff = try repository.diff(from: base, to: head, options: DiffOptions())
        var result: [Changed] = []
        for file in diff.files where [.added, .modified, .renamed].contains(file.status) && !file.isBinary {
            let path = file.path.description
            guard !path.hasPrefix(testDirectory + "/"), EditGuard.problem(with: path) == nil, file.newMode != .symlink,
                  let headText = try? repository.blob(at: file.path, in: head.hex, sizeLimit: 256 << 10).text
            else { continue }
            let basePath = file.oldPath ?? file.path
            let baseText = file.status == .added ? nil : try? repository.blob(at: basePath, in: base.hex, sizeLimit: 256 << 10).text
            var text = ""
            for hunk in file.hunks {
                text += hunk.header.hasSuffix("\n") ? hunk.header : hunk.header + "\n"
                for line in hunk.lines {
                    let mark = line.kind == .added ? "+" : line.kind == .deleted ? "-" : " "
                    text += mark + line.text + (line.text.hasSuffix("\n") ? "" : "\n")
                }
            }
            result.append(Changed(path: path, headText: headText, baseText: baseText, addedLines: file.addedLineNumbers, diff: text))
        }
        return result
    }

    /// A short existing test under `testDirectory`, to show the framework and style.
    private func example(in root: URL, testDirectory: String) -> (path: String, text: String)? {
        let folder = root.appendingPathComponent(testDirectory)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return nil }
        for name in names.sorted() where !name.hasPrefix(".") {
            let path = "\(testDirectory)/\(name)"
            guard EditGuard(root: root).checkOnDisk(path) == nil,
                  let data = FileManager.default.contents(atPath: folder.appendingPathComponent(name).path),
                  data.count <= 4096, !data.contains(0)
            else { continue }
            return (path, String(decoding: data, as: UTF8.self))
        }
        return nil
    }
}
