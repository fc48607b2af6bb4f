import Foundation
import TestSupport
import Testing

/// `sparrow run` and `sparrow merge` as a user calls them: arguments, exit codes, messages.
@Suite struct RunCommandTests {
    @Test func aBadSpecIsExitTwoAndNothingRuns() throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let spec = try folder.write("version: 1\nmodel: {path: m.gguf}\ntasks: [{id: a, kind: reveiw}]\n", to: "jobs.yaml")
        let result = try SparrowBinary.run(["run", spec.path, "--out", folder.url.appendingPathComponent("out").path])
        #expect(result.exitCode == 2)
        #expect(result.standardError.contains("jobs.yaml:3:23: error: tasks[0].kind: expected one of review, patch, tests"))
        #expect(!FileManager.default.fileExists(atPath: folder.url.appendingPathComponent("out").path))
    }

    @Test func anUnsetModelVariableNamesItsPosition() throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let spec = try folder.write("version: 1\nmodel: {path: \"${NO_SUCH_VARIABLE_X}/m.gguf\"}\ntasks: [{id: a, kind: review}]\n", to: "jobs.yaml")
        let result = try SparrowBinary.run(["run", spec.path])
        #expect(result.exitCode == 2)
        #expect(result.standardError.contains("jobs.yaml:2:15: error: model.path: ${NO_SUCH_VARIABLE_X} is not set in the environment"))
    }

    @Test func aDryRunListsChunksWithoutAModel() throws {
        let repository = try GitRepository()
        defer { repository.remove() }
        try repository.commit([.file("a.swift", "let a = 1\n")], message: "one")
        try repository.commit([.file("a.swift", "let a = 1\nlet b = 2\n"), .file("Cargo.lock", "x\n")], message: "two")
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let spec = try folder.write(
            "version: 1\nmodel: {path: /nonexistent/m.gguf}\nrepository: \(repository.url.path)\ntasks: [{id: r, kind: review, base: main~1, head: main}]\n",
            to: "jobs.yaml")
        let result = try SparrowBinary.run(["run", spec.path, "--dry-run"])
        #expect(result.exitCode == 0)
        #expect(result.standardError.contains("task r (review)"))
        #expect(result.standardError.contains("chunk 1: a.swift lines 1-2"))
        #expect(result.standardError.contains("skipped Cargo.lock: lock file"))
    }

    @Test func aMissingModelFileIsBadInput() throws {
        let repository = try GitRepository()
        defer { repository.remove() }
        try repository.commit([.file("a.swift", "let a = 1\n")], message: "one")
        try repository.commit([.file("a.swift", "let a = 2\n")], message: "two")
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let spec = try folder.write(
            "version: 1\nmodel: {path: /nonexistent/m.gguf}\nrepository: \(repository.url.path)\ntasks: [{id: r, kind: review, base: main~1, head: main}]\n",
            to: "jobs.yaml")
        let result = try SparrowBinary.run(["run", spec.path, "--out", folder.url.appendingPathComponent("out").path])
        #expect(result.exitCode == 2)
        #expect(result.standardError.contains("sparrow: model:"))
    }

    @Test func mergeRefusesFoldersThatAreNotShards() throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let result = try SparrowBinary.run(["merge", folder.url.path, "--out", folder.url.appendingPathComponent("m").path])
        #expect(result.exitCode == 2)
        #expect(result.standardError.contains("has no shard.json"))
    }

    @Test func aBadShardArgumentIsBadInput() throws {
        let result = try SparrowBinary.run(["run", "/nonexistent.yaml", "--shard", "4/3"])
        #expect(result.exitCode == 2)
        #expect(result.standardError.contains("expected I/N with 0 ≤ I < N"))
    }
}
