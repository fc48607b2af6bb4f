import Foundation
import Jobs
import Runner
import TestSupport
import Testing

@Suite struct ValidateCommandTests {
    @Test func versionAndHelpWork() throws {
        let version = try SparrowBinary.run(["--version"])
        #expect(version.exitCode == 0)
        #expect(version.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines) == SparrowVersion.current)
        let help = try SparrowBinary.run(["--help"])
        #expect(help.exitCode == 0)
        #expect(help.standardOutput.contains("validate"))
    }

    @Test func aValidSpecPrintsTheSummaryAndExitsZero() throws {
        let spec = SparrowBinary.repositoryRoot.appendingPathComponent("Pipelines/examples/nightly-patches.yaml").path
        let result = try SparrowBinary.run(["validate", spec])
        #expect(result.exitCode == 0)
        #expect(result.standardOutput == "ok: 2 tasks (2 patch)\n")
        #expect(result.standardError.isEmpty)
    }

    @Test func allErrorsGoToStandardErrorWithExitTwo() throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let file = try folder.write("""
        version: 1
        model: {path: m.gguf, contxt: 10}
        tasks:
          - {id: a, kind: review, filter: most}
          - {id: a, kind: tests}
        """, to: "jobs.yaml")
        let result = try SparrowBinary.run(["validate", file.path])
        #expect(result.exitCode == 2)
        #expect(result.standardOutput.isEmpty)
        let lines = result.standardError.split(separator: "\n").map(String.init)
        #expect(lines == [
            "\(file.path):2:23: error: unknown key \"contxt\" in model; did you mean \"context\"?",
            "\(file.path):4:35: error: tasks[0].filter: expected one of added, diff_context, file, nofilter, found \"most\"",
            "\(file.path):5:5: error: tasks[1]: missing required key \"run\" (the command that runs the tests)",
            "\(file.path):5:10: error: tasks[1].id: duplicate task id \"a\" (first used at 4:10); ids must be unique",
            "\(file.path): 4 errors; nothing was run",
        ])
    }

    @Test func jsonOutputIsOneDocument() throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let good = try folder.write("version: 1\nmodel: {path: m.gguf}\ntasks: [{id: a, kind: review}]\n", to: "good.yaml")
        let bad = try folder.write("version: 3\n", to: "bad.yaml")
        let result = try SparrowBinary.run(["validate", "--json", good.path, bad.path])
        #expect(result.exitCode == 2)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
        #expect(object["valid"] as? Bool == false)
        let files = try #require(object["files"] as? [[String: Any]])
        #expect(files.map { $0["valid"] as? Bool } == [true, false])
        #expect(files[0]["summary"] as? String == "1 task (1 review)")
        let errors = try #require(files[1]["errors"] as? [[String: Any]])
        #expect(errors.count == 3)
        #expect(errors.first?["line"] as? Int == 1 && errors.first?["column"] as? Int == 1)
    }

    @Test func keyTableIsTheSchemaTable() throws {
        let result = try SparrowBinary.run(["validate", "--key-table"])
        #expect(result.exitCode == 0)
        #expect(result.standardOutput == SpecSchema.markdownTable())
    }

    @Test func missingArgumentsAndFilesAreBadInput() throws {
        let none = try SparrowBinary.run(["validate"])
        #expect(none.exitCode != 0)
        #expect(none.standardError.contains("name at least one spec file"))
        let missing = try SparrowBinary.run(["validate", "/nonexistent/jobs.yaml"])
        #expect(missing.exitCode == 2)
        #expect(missing.standardError.hasPrefix("/nonexistent/jobs.yaml:1:1: error: cannot read the spec: no such file"))
    }
}
