import Foundation
import Generation
@testable import Runner
import TestSupport
import Testing

/// Resume after an interrupted run, sharding and merging: the deterministic files must equal an uninterrupted,
/// unsharded run's byte for byte.
@Suite struct JournalAndShardTests {
    static let deterministicFiles = ["sparrow.sarif", "gl-code-quality.json", "annotations.rdjsonl", "checkstyle.xml", "junit.xml"]

    /// Six review tasks over three commits, each with a finding on an added line.
    static func sixTasks(_ fixture: RunnerFixture) throws -> String {
        try fixture.repository.commit([.file("a.txt", RunnerFixture.lines(5))], message: "one")
        try fixture.repository.commit([.file("a.txt", RunnerFixture.lines(8))], message: "two")
        try fixture.repository.commit([.file("a.txt", RunnerFixture.lines(8)), .file("b.txt", RunnerFixture.lines(3, prefix: "bee"))], message: "three")
        let tasks = (0..<6).map { index in
            "  - {id: task-\(index), kind: review, base: main~\(index % 2 + 1), head: main\(index % 3 == 0 ? "" : "~\(index % 2)")}"
        }
        return try fixture.spec("tasks:\n" + tasks.joined(separator: "\n") + "\noutputs: {formats: [sarif, gitlab, rdjsonl, checkstyle, junit], fail_on: never}\n")
    }

    static let generator = ScriptedGenerator { request in
        let path = ScriptedGenerator.path(of: request) ?? "?"
        let line = ScriptedGenerator.lineRange(of: request)?.upperBound ?? 1
        return ScriptedGenerator.findings([("correctness", "warning", path, line, "last line of \(request.id)")])
    }

    @Test func resumeAfterATornJournalGivesTheSameFiles() async throws {
        let fixture = try RunnerFixture()
        defer { fixture.remove() }
        let spec = try Self.sixTasks(fixture)
        let full = try await fixture.run(fixture.options(spec, out: "full"), generator: Self.generator)
        #expect(full.exitCode == 0)
        let journal = try #require(fixture.output("full", "results.jsonl"))
        let lines = journal.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true)
        #expect(lines.count == 6)

        // A run killed after three tasks, in the middle of writing the fourth line.
        let partial = fixture.folder.url.appendingPathComponent("partial")
        try FileManager.default.createDirectory(at: partial, withIntermediateDirectories: true)
        var torn = Data(lines.prefix(3).joined(separator: [UInt8(ascii: "\n")])) + Data("\n".utf8)
        torn += Data(lines[3].prefix(40))
        try torn.write(to: partial.appendingPathComponent("results.jsonl"))

        let counting = ScriptedGenerator { request throws(GenerationError) in try await Self.generator.generate(request).text }
        let resumed = try await fixture.run(fixture.options(spec, out: "partial", resume: true), generator: counting)
        #expect(resumed.exitCode == 0)
        let resumedJournal = try #require(fixture.output("partial", "results.jsonl"))
        let ids = resumedJournal.split(separator: UInt8(ascii: "\n")).compactMap { try? JSONDecoder().decode(JournalEntry.self, from: $0).id }
        #expect(ids.sorted() == (0..<6).map { "task-\($0)" }, "every task exactly once")
        #expect(Set(counting.requests.map { String($0.id.split(separator: "/")[0]) }).count == 3, "only the unfinished tasks ran again")
        for file in Self.deterministicFiles {
            #expect(fixture.output("partial", file) == fixture.output("full", file), "\(file) differs after resume")
        }
    }

    @Test func shardsMergeIntoTheUnshardedFiles() async throws {
        let fixture = try RunnerFixture()
        defer { fixture.remove() }
        let spec = try Self.sixTasks(fixture)
        _ = try await fixture.run(fixture.options(spec, out: "full"), generator: Self.generator)
        var folders: [URL] = []
        var shardSizes: [Int] = []
        for index in 0..<3 {
            let shard = try Shard(index: index, count: 3)
            _ = try await fixture.run(fixture.options(spec, out: "shard-\(index)", shard: shard), generator: Self.generator)
            folders.append(fixture.folder.url.appendingPathComponent("shard-\(index)"))
            shardSizes.append((0..<6).filter { shard.contains(taskID: "task-\($0)") }.count)
        }
        #expect(shardSizes.reduce(0, +) == 6)
        let merged = fixture.folder.url.appendingPathComponent("merged")
        let result = try JobMerger.merge(folders, into: merged, environment: [:])
        #expect(result.exitCode == 0)
        for file in Self.deterministicFiles {
            #expect(fixture.output("merged", file) == fixture.output("full", file), "\(file) differs after merge")
        }
        #expect(throws: RunnerError.self) { try JobMerger.merge(Array(folders.prefix(2)), into: merged, environment: [:]) }
        do {
            _ = try JobMerger.merge([folders[0], folders[2], folders[2]], into: merged, environment: [:])
        } catch {
            #expect(error.description == "merge: missing shard 1/3; shard 2 given twice; nothing was written")
        }
    }

    @Test func shardsComeFromCIVariables() throws {
        #expect(try Shard.fromEnvironment(["JOB_COMPLETION_INDEX": "2", "SPARROW_SHARDS": "4"]) == Shard(index: 2, count: 4))
        #expect(try Shard.fromEnvironment(["CI_NODE_INDEX": "1", "CI_NODE_TOTAL": "3"]) == Shard(index: 0, count: 3))
        #expect(try Shard.fromEnvironment([:]) == nil)
        #expect(throws: RunnerError.self) { try Shard.fromEnvironment(["JOB_COMPLETION_INDEX": "1"]) }
        #expect(throws: RunnerError.self) { try Shard(parsing: "3/3") }
        // Selection is SHA-256(id) mod N; every id lands in exactly one shard.
        let ids = (0..<200).map { "t\($0)" }
        let shards = try (0..<4).map { try Shard(index: $0, count: 4) }
        #expect(ids.allSatisfy { id in shards.filter { $0.contains(taskID: id) }.count == 1 })
        // sha256("a") = ca978112… ; as a number mod 2 it is odd (the last hex digit of the digest is b).
        #expect(try Shard(index: 1, count: 2).contains(taskID: "a"))
    }

    @Test func aJournalLineThatIsNotJSONIsAnErrorWithItsLineNumber() throws {
        let data = Data("{\"id\":\"x\"}\n".utf8)
        #expect(throws: RunnerError.self) { try Journal.parse(data, path: "r.jsonl") }
        let torn = try Journal.parse(Data("".utf8), path: "r.jsonl")
        #expect(torn.entries.isEmpty && torn.validLength == 0)
    }
}
