import ArgumentParser
import Foundation
import GGUF

/// `sparrow model info MODEL.gguf [--json]`: architecture, sizes, metadata, tensors and quant types of a file.
struct ModelInfo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Architecture, parameter count, file size, metadata and tensor types of a GGUF file."
    )

    @Argument(help: "The GGUF model file.")
    var model: String

    @Flag(help: "Print one JSON document on stdout.")
    var json = false

    func run() throws {
        let summary: GGUFModelSummary
        do {
            summary = try GGUFModelSummary(GGUFFile(contentsOf: URL(fileURLWithPath: model)))
        } catch let error as GGUFError {
            // A bad model file is bad input: exit code 2 (DESIGN.md §4).
            FileHandle.standardError.write(Data("sparrow: \(model): \(error)\n".utf8))
            throw ExitCode(2)
        }
        if json {
            var document = try summary.json()
            document.append(0x0A)
            FileHandle.standardOutput.write(document)
        } else {
            FileHandle.standardOutput.write(Data(summary.text().utf8))
        }
    }
}
