import Annotations
import Foundation
import Generation
import Runner
import TestSupport
import Testing

/// End-to-end review runs against temporary repositories with a scripted model.
@Suite struct ReviewRunTests {
    /// base: a 12-line file; head: line 5 changed, line 13 added.
    static func twoCommits(_ fixture: RunnerFixture) throws {
        try fixture.repository.commit([.file("Sources/App.swift", RunnerFixture.lines(12))], message: "base")
        var head = RunnerFixture.lines(12).split(separator: "\n").map(String.init)
        head[4] = "let x = try! load()"
        head.append("print(x)")
        try fixture.repository.commit([.file("Sources/App.swift", head.joined(separator: "\n") + "\n")], message: "head")
    }

    @Test func findingsLandOnChangedLinesAndTheRestIsCounted() async throws {
        let fixture = try RunnerFixture()
        defer { fixture.remove() }
        try Self.twoCommits(fixture)
        let spec = try fixture.spec("tasks:\n  - {id: review, kind: review, base: main~1, head: main}\noutputs: {formats: [sarif, rdjsonl, junit], fail_on: error}\n")
        let generator = ScriptedGenerator { request in
            let path = ScriptedGenerator.path(of: request) ?? "?"
            return ScriptedGenerator.findings([
                ("correctness", "error", path, 5, "force try crashes on bad input"),
                ("style", "note", path, 3, "unchanged line"),
                ("correctness", "error", path, 5, "force try crashes on bad input"),
            ])
        }
        let result = try await fixture.run(fixture.options(spec), generator: generator)
        #expect(result.exitCode == 1, "an error finding with fail_on: error")

        let sarif = try #require(fixture.output("out", "sparrow.sarif"))
        let log = try #require(try JSONSerialization.jsonObject(with: sarif) as? [String: Any])
        let results = try #require(((log["runs"] as? [[String: Any]])?.first?["results"]) as? [[String: Any]])
        #expect(results.count == 1)
        let region = ((results.first?["locations"] as? [[String: Any]])?.first?["physicalLocation"] as? [String: Any])?["region"] as? [String: Any]
        #expect(region?["startLine"] as? Int == 5)

        let journal = try #require(fixture.output("out", "results.jsonl"))
        let entry = try JSONDecoder().decode(JournalEntry.self, from: journal.split(separator: UInt8(ascii: "\n"))[0])
        #expect(entry.status == .ok)
        #expect(entry.findings.map(\.range.startLine) == [5])
        #expect(entry.findings.first?.flaggedLines == ["let x = try! load()"])
        let record = try #require(entry.review)
        #expect(record.proposed == 3)
        #expect(record.duplicates == 1)
        #expect(record.filteredOut == ["context": 1])
        #expect(record.reviewedFiles == ["Sources/App.swift"])
        #expect(generator.requests.count == 1)
        #expect(ScriptedGenerator.lineRange(of: generator.requests[0]) == 2...13)
        #expect(FileManager.default.fileExists(atPath: fixture.folder.url.appendingPathComponent("out/run-info.json").path))
    }

    @Test func aLargeDiffIsChunkedWithinTheContextAndNothingIsLost() async throws {
        let fixture = try RunnerFixture()
        defer { fixture.remove() }
        try fixture.repository.commit([.file("README.md", "hello\n")], message: "base")
        let big = (1...5000).map { "let value\($0) = compute(\($0)) // \(String(repeating: "x", count: $0 % 40))" }.joined(separator: "\n") + "\n"
        let huge = "let huge = \"" + String(repeating: "y", count: 40_000) + "\"\n"
        try fixture.repository.commit([.file("README.md", "hello\n"), .file("Big.swift", big), .file("Huge.swift", huge)], message: "head")
        let spec = try fixture.spec("tasks:\n  - {id: big, kind: review, base: main~1, head: main, max_tokens: 256}\noutputs: {formats: [sarif], fail_on: never}\n")
        let generator = ScriptedGenerator(contextLength: 4096) { _ in "{\"findings\": []}" }
        let result = try await fixture.run(fixture.options(spec), generator: generator)
        #expect(result.exitCode == 0)
        let requests = generator.requests
        #expect(requests.count > 10)
        var covered = Set<Int>()
        for request in requests {
            let tokens = await generator.countTokens(request.prompt)
            #expect(tokens + request.maxTokens <= 4096, "a chunk of \(tokens) tokens does not fit")
            if ScriptedGenerator.path(of: request) == "Big.swift", let range = ScriptedGenerator.lineRange(of: request) {
                covered.formUnion(range)
            }
        }
        #expect(covered == Set(1...5000), "every added line of Big.swift was in a reviewed chunk")
        let journal = try #require(fixture.output("out", "results.jsonl"))
        let entry = try JSONDecoder().decode(JournalEntry.self, from: journal.split(separator: UInt8(ascii: "\n"))[0])
        let record = try #require(entry.review)
        #expect(record.chunks == requests.count)
        #expect(record.skipped.contains { $0.path == "Huge.swift" && $0.reason == "a single line is longer than the context allows" && $0.lines == "1" })
    }

    @Test func ignoredGeneratedAndBinaryFilesAreListedWithReasons() async throws {
        let fixture = try RunnerFixture()
        defer { fixture.remove() }
        try fixture.repository.commit([.file("a.swift", "let a = 1\n")], message: "base")
        try fixture.repository.commit([
            .file("a.swift", "let a = 1 // sparrow-ignore\nlet b = 2\n// sparrow-ignore: security\nlet c = 3\n// sparrow-ignore: style\nlet d = 4\n"),
            .file("Package.resolved", "{}\n"),
            .file("vendor/lib.c", "int x;\n"),
            .file("gen.swift", "// @generated by protoc\nlet g = 1\n"),
            .file("image.png", bytes: Data([0x89, 0x50, 0x4E, 0x47, 0, 0, 1, 2])),
            .file("docs/notes.md", "notes\n"),
        ], message: "head")
        let spec = try fixture.spec("tasks:\n  - {id: r, kind: review, base: main~1, head: main, exclude: [\"docs/**\"]}\noutputs: {formats: [sarif], fail_on: never}\n")
        let generator = ScriptedGenerator { request in
            let path = ScriptedGenerator.path(of: request) ?? "?"
            return ScriptedGenerator.findings([
                ("style", "warning", path, 1, "ignored by its trailing comment"), ("style", "warning", path, 2, "kept"),
                ("style", "warning", path, 4, "kept: the comment above names another rule"),
                ("style", "warning", path, 6, "ignored by the comment above"),
            ])
        }
        _ = try await fixture.run(fixture.options(spec), generator: generator)
        let journal = try #require(fixture.output("out", "results.jsonl"))
        let entry = try JSONDecoder().decode(JournalEntry.self, from: journal.split(separator: UInt8(ascii: "\n"))[0])
        let record = try #require(entry.review)
        let reasons = Dictionary(uniqueKeysWithValues: record.skipped.map { ($0.path, $0.reason) })
        #expect(reasons == ["Package.resolved": "lock file", "vendor/lib.c": "vendored", "gen.swift": "generated", "image.png": "binary", "docs/notes.md": "excluded"])
        #expect(record.ignored == 2, "\(record) \(generator.requests.map { ScriptedGenerator.chunk(of: $0) })")
        #expect(entry.findings.map(\.range.startLine) == [2, 4])
    }

    @Test func anExistingJournalNeedsResume() async throws {
        let fixture = try RunnerFixture()
        defer { fixture.remove() }
        try Self.twoCommits(fixture)
        let spec = try fixture.spec("tasks:\n  - {id: r, kind: review, base: main~1, head: main}\n")
        let generator = ScriptedGenerator { _ in "{\"findings\": []}" }
        _ = try await fixture.run(fixture.options(spec), generator: generator)
        await #expect(throws: RunnerError.self) { try await fixture.run(fixture.options(spec), generator: generator) }
        let resumed = try await fixture.run(fixture.options(spec, resume: true), generator: generator)
        #expect(resumed.exitCode == 0)
        #expect(generator.requests.count == 1, "the finished task was not redone")
    }

    @Test func baseAutoUsesTheMergeBaseOfTheGitHubBaseBranch() async throws {
        let fixture = try RunnerFixture()
        defer { fixture.remove() }
        let base = try fixture.repository.commit([.file("a.txt", "one\n")], message: "base", branch: "main")
        try fixture.repository.commit([.file("a.txt", "one\n"), .file("b.txt", "feature\n")], message: "feature", branch: "feature", parents: [base])
        try fixture.repository.commit([.file("a.txt", "one\nmain moved on\n")], message: "main moves", branch: "main")
        let spec = try fixture.spec("tasks:\n  - {id: r, kind: review, base: auto, head: feature}\n")
        let generator = ScriptedGenerator { _ in "{\"findings\": []}" }
        _ = try await fixture.run(fixture.options(spec, environment: ["GITHUB_BASE_REF": "main"]), generator: generator)
        #expect(generator.requests.compactMap(ScriptedGenerator.path(of:)) == ["b.txt"], "only the feature's change, not main's")

        let missing = try await fixture.run(fixture.options(spec, out: "out2"), generator: generator)
        #expect(missing.exitCode == 3)
        let journal = try #require(fixture.output("out2", "results.jsonl"))
        #expect(String(decoding: journal, as: UTF8.self).contains("base: auto needs a pull/merge request pipeline"))
    }

    @Test func aTaskPastItsTimeoutEndsAsError() async throws {
        let fixture = try RunnerFixture()
        defer { fixture.remove() }
        try Self.twoCommits(fixture)
        let spec = try fixture.spec("tasks:\n  - {id: slow, kind: review, base: main~1, head: main, timeout: 1s}\n")
        let generator = ScriptedGenerator { _ in
            try? await Task.sleep(nanoseconds: 5_000_000_000)
            return "{\"findings\": []}"
        }
        let result = try await fixture.run(fixture.options(spec), generator: generator)
        #expect(result.exitCode == 3)
        let journal = String(decoding: try #require(fixture.output("out", "results.jsonl")), as: UTF8.self)
        #expect(journal.contains("timed out after 1s"))
    }
}
