import Hashing
import Annotations
import Foundation
public import Generation
import Git
import Jobs

/// What a finished (or stopped) run reports to the CLI.
public struct RunResult: Sendable {
    public var exitCode: Int32
    /// The output folder.
    public var outputDirectory: String
    /// One-line summary, e.g. `3 tasks: 3 ok; 4 findings (1 error); wrote sparrow.sarif, junit.xml`.
    public var summary: String
    /// GitHub workflow commands to print on standard output (the `github` format), if any.
    public var githubCommands: String?
}

/// `sparrow run`: loads the spec, runs this shard's tasks with the model loaded once, journals each result, and
/// writes the output files (DESIGN.md §1, §5, §8).
public enum JobRunner {
    public static func run(
        _ options: RunOptions, makeGenerator: GeneratorFactory, reporter: any RunReporter
    ) async throws(RunnerError) -> RunResult {
        let started = Date()
        let loaded: LoadedSpec
        do {
            loaded = try SpecLoader.load(path: SpecResolution.absolute(options.specPath, against: options.workingDirectory))
        } catch {
            throw .badInput(error.description)
        }
        for warning in loaded.warnings { reporter.message("\(warning.file):\(warning.location): warning: \(warning.message)") }
        let resolution = SpecResolution(loaded: loaded, options: options)
        let spec = loaded.spec
        let modelResolution = Result { () throws(RunnerError) in try resolution.model() }
        if !options.dryRun { _ = try modelResolution.get() }
        let repositoryPath = try resolution.repositoryPath()
        let outputDirectory = URL(fileURLWithPath: resolution.outputDirectory(), isDirectory: true)
        let shard: Shard
        if let chosen = options.shard {
            shard = chosen
        } else {
            shard = try Shard.fromEnvironment(options.environment) ?? .whole
        }
        let tasks = spec.tasks.filter { shard.contains(taskID: $0.id) }
        let baseline = try options.baseline.map { path throws(RunnerError) in
            try Baseline.fingerprints(in: SpecResolution.absolute(path, against: options.workingDirectory))
        } ?? []

        // Revisions, per task: a task whose revisions do not resolve ends `error`; the others still run.
        let repository: Repository?
        var repositoryError: String?
        do {
            repository = try Repository(at: URL(fileURLWithPath: repositoryPath))
        } catch {
            repository = nil
            repositoryError = "\(error)"
        }
        var commits: [String: [String: ObjectID]] = [:]
        var resolutionErrors: [String: String] = [:]
        for task in tasks {
            guard let repository else {
                resolutionErrors[task.id] = repositoryError ?? "no repository"
                continue
            }
            do {
                commits[task.id] = try TaskRevisions(repository: repository, environment: options.environment).resolve(task)
            } catch {
                resolutionErrors[task.id] = error.description
            }
        }

        let pullRequest = ReviewPrompt.pullRequestContext(options.environment)
        let systemMessage = ReviewPrompt.systemMessage(pullRequest: pullRequest)
        if options.dryRun {
            switch modelResolution {
            case let .success(model): reporter.message("model: \(Self.describe(model.source)) (not loaded)")
            case let .failure(error): reporter.message("model: cannot be resolved yet: \(error)")
            }
            return try await DryRun.report(
                tasks: tasks, commits: commits, errors: resolutionErrors, repository: repository,
                spec: spec, systemMessage: systemMessage, shard: shard, outputDirectory: outputDirectory.path,
                reporter: reporter
            )
        }

        do {
            try FileManager.default.createDirectory(at: outputDirectory, withIntermediateDirectories: true)
        } catch {
            throw .output(path: outputDirectory.path, reason: error.localizedDescription)
        }
        let journal = try Journal(directory: outputDirectory, resume: options.resume)
        let previous = await journal.latestEntries()

        // The model is loaded only when there is something left to do.
        let needsModel = tasks.contains { task in
            guard let entry = previous[task.id] else { return true }
            return entry.status == .error
        }
        let model = try modelResolution.get()
        var generator: (any TextGenerating)?
        if needsModel {
            reporter.message("loading \(Self.describe(model.source))")
            do {
                generator = try await makeGenerator(model)
            } catch {
                throw .badInput("model: \(error)")
            }
        }
        let identity = generator?.model.identity ?? ""
        let contextLength = spec.model.context.map { min($0, generator?.model.contextLength ?? $0) }
            ?? min(generator?.model.contextLength ?? 32_768, 32_768)

        var keys: [String: String] = [:]
        for task in tasks {
            let taskCommits = (commits[task.id] ?? [:]).mapValues(\.hex)
            keys[task.id] = TaskKey.make(task: task, commits: taskCommits, modelIdentity: identity)
        }
        var finished: [String: JournalEntry] = [:]
        for task in tasks {
            if let entry = previous[task.id], entry.status != .error, generator == nil || entry.key == keys[task.id] {
                finished[task.id] = entry
            }
        }
        let pending = tasks.filter { finished[$0.id] == nil }
        if !finished.isEmpty { reporter.message("resuming: \(finished.count) of \(tasks.count) tasks already done") }

        let gate = RequestGate(permits: spec.model.parallel)
        let context = TaskContext(
            repository: repository, generator: generator, gate: gate, systemMessage: systemMessage,
            contextLength: contextLength, sandbox: spec.sandbox, environment: options.environment
        )
        let alreadyDone = finished.count
        var done = alreadyDone
        var completionTokens = 0
        let runStart = Date()
        await withTaskGroup(of: JournalEntry.self) { group in
            var iterator = pending.makeIterator()
            func startNext() {
                guard let task = iterator.next() else { return }
                let key = keys[task.id] ?? ""
                let error = resolutionErrors[task.id]
                let taskCommits = commits[task.id] ?? [:]
                group.addTask {
                    await TaskExecution.run(task: task, key: key, commits: taskCommits, resolutionError: error, context: context)
                }
            }
            for _ in 0..<max(1, spec.model.parallel) { startNext() }
            for await entry in group {
                if Task.isCancelled { break }
                do {
                    try await journal.append(entry)
                } catch {
                    reporter.message("\(error)")
                }
                finished[entry.id] = entry
                done += 1
                completionTokens += entry.usage.completionTokens
                let elapsed = Date().timeIntervalSince(runStart)
                let rate = elapsed > 0 ? Double(completionTokens) / elapsed : 0
                let remaining = tasks.count - done
                let eta: Double? = remaining > 0 ? elapsed / Double(done - alreadyDone) * Double(remaining) : nil
                reporter.taskFinished(entry, done: done, total: tasks.count, tokensPerSecond: rate, etaSeconds: eta)
                startNext()
            }
        }
        await journal.close()
        if Task.isCancelled {
            return RunResult(exitCode: 130, outputDirectory: outputDirectory.path, summary: "interrupted after \(done) of \(tasks.count) tasks; the journal is complete up to there: rerun with --resume", githubCommands: nil)
        }

        let entries = tasks.compactMap { finished[$0.id] }
        let formats = Set(spec.outputs.formats.map(\.rawValue) + (options.environment["GITHUB_ACTIONS"] == "true" ? ["github"] : []))
        let written = try OutputFiles(directory: outputDirectory, formats: formats, baseline: baseline).write(entries)
        if shard.count > 1 {
            let specBytes = FileManager.default.contents(atPath: SpecResolution.absolute(options.specPath, against: options.workingDirectory)) ?? Data()
            try ShardManifest(
                index: shard.index, count: shard.count, specHash: SHA256.hexDigest(specBytes),
                allTaskIDs: spec.tasks.map(\.id), taskIDs: tasks.map(\.id), formats: spec.outputs.formats.map(\.rawValue),
                failOn: spec.outputs.failOn.rawValue
            ).write(to: outputDirectory)
        }
        try RunInfo(
            started: started, finished: Date(), arguments: options.arguments, shard: shard.description,
            model: Self.describe(model.source), modelIdentity: identity, entries: entries
        ).write(to: outputDirectory)
        if let summaryFile = options.environment["GITHUB_STEP_SUMMARY"], let markdown = written.githubSummary,
           let handle = FileHandle(forWritingAtPath: summaryFile) {
            _ = try? handle.seekToEnd()
            try? handle.write(contentsOf: Data(markdown.utf8))
            try? handle.close()
        }
        let code = ExitStatus.code(entries: entries, findings: written.findings, failOn: spec.outputs.failOn)
        return RunResult(
            exitCode: code, outputDirectory: outputDirectory.path,
            summary: Self.summary(entries: entries, written: written), githubCommands: written.githubCommands
        )
    }

    static func describe(_ source: ResolvedModel.Source) -> String {
        switch source {
        case let .file(path): path
        case let .server(url, name, _, _): "\(name) at \(url)"
        }
    }

    static func summary(entries: [JournalEntry], written: OutputFiles.Summary) -> String {
        var counts: [String: Int] = [:]
        for entry in entries { counts[entry.status.rawValue, default: 0] += 1 }
        let statuses = ["ok", "no-change", "failed", "error"].compactMap { status in counts[status].map { "\($0) \(status)" } }
        let bySeverity = ["error", "warning", "note"].compactMap { severity -> String? in
            let count = written.findings.filter { $0.severity.rawValue == severity }.count
            return count > 0 ? "\(count) \(severity)" : nil
        }
        var text = "\(entries.count) task\(entries.count == 1 ? "" : "s"): \(statuses.joined(separator: ", ")); "
        text += "\(written.findings.count) finding\(written.findings.count == 1 ? "" : "s")"
        if !bySeverity.isEmpty { text += " (\(bySeverity.joined(separator: ", ")))" }
        if written.baselineSuppressed > 0 { text += ", \(written.baselineSuppressed) suppressed by the baseline" }
        if !written.files.isEmpty { text += "; wrote \(written.files.joined(separator: ", "))" }
        return text
    }
}

/// What every task of a run shares.
struct TaskContext: Sendable {
    let repository: Repository?
    let generator: (any TextGenerating)?
    let gate: RequestGate
    let systemMessage: String
    let contextLength: Int
    /// `sandbox:` of the spec, and the environment commands start from (patch and tests tasks).
    var sandbox: SandboxMode = .bwrap
    var environment: [String: String] = [:]
}
