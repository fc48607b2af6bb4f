import ArgumentParser
import Dispatch
import Foundation
import Runner

/// `sparrow run JOBS.yaml`: the main job.
struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a job spec: review, patch and test tasks with the model loaded once.",
        discussion: """
        Writes results.jsonl (the journal), the output files the spec names, and run-info.json into the output \
        folder. Exit status: 0 ok; 1 a finding at or above fail_on, or a failed task; 2 bad input (nothing ran); \
        3 a task could not run; 130 interrupted (rerun with --resume).
        """
    )

    @Argument(help: "The job spec (YAML).")
    var spec: String

    @Option(help: "Output folder (overrides outputs.dir).")
    var out: String?

    @Option(help: "A GGUF file or an OpenAI-compatible server URL (overrides model.path / model.url).")
    var model: String?

    @Option(help: "Run only shard I of N (0-based), e.g. 1/4. Also read from JOB_COMPLETION_INDEX+SPARROW_SHARDS or CI_NODE_INDEX/CI_NODE_TOTAL.")
    var shard: String?

    @Flag(help: "Continue the run whose journal is in the output folder; finished tasks are not redone.")
    var resume = false

    @Flag(help: "Print the tasks, chunks and prompt sizes without loading the model.")
    var dryRun = false

    @Option(help: "A SARIF file of an earlier run: findings with the same fingerprints are not reported again.")
    var baseline: String?

    func run() async throws {
        let options: RunOptions
        do {
            options = RunOptions(
                specPath: spec, outputDirectory: out, model: model, shard: try shard.map { text throws(RunnerError) in try Shard(parsing: text) },
                resume: resume, dryRun: dryRun, baseline: baseline, environment: ProcessInfo.processInfo.environment,
                workingDirectory: FileManager.default.currentDirectoryPath, arguments: CommandLine.arguments
            )
        } catch {
            StandardError.write("sparrow: \(error)")
            throw ExitCode(2)
        }
        let work = Task { () async throws(RunnerError) -> RunResult in
            try await JobRunner.run(options, makeGenerator: GeneratorFactories.make, reporter: StandardErrorReporter())
        }
        let signals = SignalCancellation(cancelling: work)
        defer { signals.stop() }
        do {
            let result = try await work.value
            if let commands = result.githubCommands, !commands.isEmpty { print(commands, terminator: "") }
            StandardError.write("sparrow: \(result.summary)")
            if result.exitCode != 130, !dryRun { StandardError.write("sparrow: outputs in \(result.outputDirectory)") }
            throw ExitCode(result.exitCode)
        } catch let error as RunnerError {
            StandardError.write("sparrow: \(error)")
            throw ExitCode(error.exitCode)
        }
    }
}

/// SIGINT/SIGTERM cancel the run; the runner stops after the journal lines of finished tasks are on disk.
final class SignalCancellation: @unchecked Sendable {  // sources are only touched in init and stop()
    private let sources: [any DispatchSourceSignal]

    init<T: Sendable, E: Error>(cancelling task: Task<T, E>) {
        sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                StandardError.write("sparrow: stopping (signal \(number)); finished tasks are in the journal")
                task.cancel()
            }
            source.resume()
            return source
        }
    }

    func stop() {
        for source in sources { source.cancel() }
    }
}
