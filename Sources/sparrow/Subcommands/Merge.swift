import ArgumentParser
import Foundation
import Runner

/// `sparrow merge DIR… --out DIR`: join shard outputs into the files an unsharded run writes.
struct Merge: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Join the output folders of shards 0..N-1 of one run.",
        discussion: "Refuses an incomplete or mixed set (exit 2). The merged files are byte-identical to an unsharded run's."
    )

    @Argument(help: "The shards' output folders.")
    var shards: [String] = []

    @Option(help: "Where to write the merged outputs.")
    var out: String = "sparrow-out"

    func run() throws {
        let current = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        let folders = shards.map { URL(fileURLWithPath: $0, relativeTo: current).standardizedFileURL }
        do {
            let result = try JobMerger.merge(
                folders, into: URL(fileURLWithPath: out, relativeTo: current).standardizedFileURL,
                environment: ProcessInfo.processInfo.environment
            )
            if let commands = result.githubCommands, !commands.isEmpty { print(commands, terminator: "") }
            StandardError.write("sparrow: \(result.summary)")
            throw ExitCode(result.exitCode)
        } catch let error as RunnerError {
            StandardError.write("sparrow: \(error)")
            throw ExitCode(error.exitCode)
        }
    }
}
