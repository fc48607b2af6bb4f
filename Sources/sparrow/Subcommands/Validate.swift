import ArgumentParser
import Foundation
import Jobs
import Runner

/// `sparrow validate JOBS.yaml…`: checks specs alone (no repository, model or network), exit 0 or 2.
struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check job specs without touching a repository, model or network.",
        discussion: """
        Prints `ok: N tasks (…)` for a valid spec, or every error as FILE:LINE:COLUMN: error: MESSAGE on \
        standard error. Exit status 0 when every spec is valid, 2 otherwise.
        """
    )

    @Argument(help: "Job spec files (YAML).")
    var specs: [String] = []

    @Flag(help: "Print one JSON document on standard output instead of text.")
    var json = false

    @Flag(help: "Print the Markdown table of every spec key (type, default, allowed values) and exit.")
    var keyTable = false

    @Flag(help: "Also resolve every task's revisions in the repository and read the model file's header.")
    var deep = false

    func validate() throws {
        if !keyTable, specs.isEmpty { throw ValidationError("name at least one spec file, e.g. sparrow validate jobs.yaml") }
    }

    func run() throws {
        if keyTable {
            print(SpecSchema.markdownTable(), terminator: "")
            return
        }
        var reports: [FileReport] = []
        for path in specs {
            do {
                let loaded = try SpecLoader.load(path: path)
                let problems = deep ? DeepValidation.problems(
                    loaded, environment: ProcessInfo.processInfo.environment,
                    workingDirectory: FileManager.default.currentDirectoryPath
                ) : []
                if problems.isEmpty {
                    reports.append(FileReport(file: path, summary: loaded.spec.taskSummary, errors: [], warnings: loaded.warnings))
                } else {
                    let errors = problems.map { SpecDiagnostic(file: path, location: SourceLocation(line: 1, column: 1), message: "deep check: \($0)") }
                    reports.append(FileReport(file: path, summary: nil, errors: errors, warnings: loaded.warnings))
                }
            } catch {
                reports.append(FileReport(file: path, summary: nil, errors: error.diagnostics, warnings: []))
            }
        }
        if json {
            print(try JSONReport(reports).text())
        } else {
            for report in reports { report.printText(prefixFile: specs.count > 1) }
        }
        if reports.contains(where: { !$0.errors.isEmpty }) { throw ExitCode(2) }
    }
}

/// The outcome of one file.
private struct FileReport {
    var file: String
    var summary: String?
    var errors: [SpecDiagnostic]
    var warnings: [SpecDiagnostic]

    func printText(prefixFile: Bool) {
        for warning in warnings {
            StandardError.write("\(warning.file):\(warning.location): warning: \(warning.message)")
        }
        if let summary {
            print(prefixFile ? "\(file): ok: \(summary)" : "ok: \(summary)")
            return
        }
        for error in errors { StandardError.write(error.description) }
        let noun = errors.count == 1 ? "error" : "errors"
        StandardError.write("\(file): \(errors.count) \(noun); nothing was run")
    }
}

/// `--json` output: `{"valid": bool, "files": [{"file", "valid", "summary", "errors": [{line, column, message}], "warnings"}]}`.
private struct JSONReport: Encodable {
    struct Entry: Encodable {
        var file: String
        var valid: Bool
        var summary: String?
        var errors: [Message]
        var warnings: [Message]
    }

    struct Message: Encodable {
        var line: Int
        var column: Int
        var message: String

        init(_ diagnostic: SpecDiagnostic) {
            line = diagnostic.location.line
            column = diagnostic.location.column
            message = diagnostic.message
        }
    }

    var valid: Bool
    var files: [Entry]

    init(_ reports: [FileReport]) {
        files = reports.map {
            Entry(file: $0.file, valid: $0.errors.isEmpty, summary: $0.summary, errors: $0.errors.map(Message.init), warnings: $0.warnings.map(Message.init))
        }
        valid = files.allSatisfy(\.valid)
    }

    func text() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}
