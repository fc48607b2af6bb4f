import ArgumentParser
import Foundation
import Runner

/// The `sparrow` command: thin argument parsing over the library modules.
@main
struct Sparrow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sparrow",
        abstract: "Review code, generate patches and write tests in CI with a resident local model.",
        version: SparrowVersion.current,
        subcommands: [Run.self, Validate.self, Merge.self, ModelCommand.self, Bench.self]
    )
}
