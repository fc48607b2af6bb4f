import Annotations
import Foundation
import Generation
import Git
import Jobs
@testable import Runner
import TestSupport
import Testing

/// Patch tasks end to end with a scripted model: attempts, feedback, the emitted mail, and hostile answers.
@Suite struct PatchTaskTests {
    static let buggy = "def add(a, b):\n    return a - b\n"
    static let check = "from calc import add\nassert add(2, 3) == 5, f'add(2, 3) gave {add(2, 3)}'\nprint('ok')\n"

    /// A rewrite answer for one file.
    static func rewrite(_ path: String, _ text: String) -> String {
        let object: [String: Any] = ["edits": [], "rewrites": [[path: text]]]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    /// A search/replace answer.
    static func edit(_ items: [(path: String, search: String, replace: String)]) -> String {
        let object: [String: Any] = ["edits": items.map { [$0.path: ["search": $0.search, "replace": $0.replace]] }]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    @Test func aFailedFirstAttemptIsFedBackAndTheSecondPatchIsEmitted() async throws {
        let fixture = try RunnerFixture()
        defer { fixture.remove() }
        try fixture.repository.commit([.file("calc.py", Self.buggy), .file("check.py", Self.check)], message: "base")
        let spec = try fixture.spec("""
            tasks:
              - {id: fix-add, kind: patch, at: main, instruction: "Make add return the sum.", files: [calc.py], verify: "python3 check.py", attempts: 3}
            outputs: {formats: [junit]}

            """)
        let generator = ScriptedGenerator { request in
            request.id.hasSuffix("attempt-1")
                ? Self.edit([("calc.py", "return a - b", "return a * b")])
                : Self.edit([("calc.py", "return a - b", "return a + b")])
        }
        let environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
        let referencesBefore = try fixture.repository.gitText(["for-each-ref", "--format=%(refname) %(objectname)"])
        let result = try await fixture.run(fixture.options(spec, environment: environment), generator: generator)
        #expect(try fixture.repository.gitText(["for-each-ref", "--format=%(refname) %(objectname)"]) == referencesBefore,
                "the patch's commit leaves no reference in the user's repository")
        #expect(result.exitCode == 0)

        let journal = try #require(fixture.output("out", "results.jsonl"))
        let entry = try JSONDecoder().decode(JournalEntry.self, from: journal.split(separator: UInt8(ascii: "\n"))[0])
        #expect(entry.status == .ok, "\(entry.detail)")
        let attempts = try #require(entry.attempts)
        #expect(attempts.map(\.outcome) == ["verify failed", "ok"])
        #expect(attempts[0].verify == "exit 1")
        // No sandbox_limits in the spec: verify ran under the standard limits, journaled with the attempt.
        #expect(attempts.allSatisfy { $0.sandboxLimits == .standard })
        #expect(SandboxLimits(SandboxLimitSettings()) == .standard)
        #expect(String(decoding: journal, as: UTF8.self).contains("\"sandbox_limits\":{"))
        #expect(attempts[0].output?.contains("add(2, 3) gave 6") == true)
        #expect(attempts[1].changed == ["calc.py"])
        #expect(generator.requests.count == 2)
        #expect(ScriptedGenerator.chunk(of: generator.requests[1]).contains("add(2, 3) gave 6"), "the failure goes back to the model")

        // The mail applies with git to a fresh clone of `at`, and carries the second attempt's change.
        let mail = try #require(fixture.output("out", "patches/fix-add.patch"))
        let text = String(decoding: mail, as: UTF8.self)
        #expect(text.contains("+    return a + b"))
        #expect(!text.contains("a * b"))
        let clone = try TemporaryDirectory(prefix: "sparrow-clone")
        defer { clone.remove() }
        _ = try GitRepository.runGit(["clone", "-q", fixture.repository.url.path, clone.url.appendingPathComponent("c").path], in: clone.url)
        let patchFile = try clone.write(mail, to: "fix.patch")
        let applied = try runProcess(
            URL(fileURLWithPath: "/usr/bin/git"), arguments: ["-C", clone.url.appendingPathComponent("c").path, "apply", "--check", patchFile.path]
        )
        #expect(applied.exitCode == 0, "git apply --check: \(applied.standardError)")
    }

    @Test func editsThatChangeNothingAreJournaledWithTheirReasonAndNoChangedFile() async throws {
        let fixture = try RunnerFixture()
        defer { fixture.remove() }
        try fixture.repository.commit([.file("calc.py", Self.buggy), .file("check.py", Self.check)], message: "base")
        let spec = try fixture.spec("""
            tasks:
              - {id: fix-add, kind: patch, at: main, instruction: "Make add return the sum.", files: [calc.py], verify: "python3 check.py", attempts: 2}

            """)
        // First an edit whose replacement equals its search, then an answer with no edit at all.
        let unchanged = Self.edit([("calc.py", "a - b", "a - b")])
        let generator = ScriptedGenerator { request in request.id.hasSuffix("attempt-1") ? unchanged : #"{"edits": []}"# }
        let environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
        _ = try await fixture.run(fixture.options(spec, environment: environment), generator: generator)
        let journal = try #require(fixture.output("out", "results.jsonl"))
        let entry = try JSONDecoder().decode(JournalEntry.self, from: journal.split(separator: UInt8(ascii: "\n"))[0])
        #expect(entry.status == .failed)
        #expect(entry.attempts?.map(\.outcome) == ["no usable edit", "no usable edit"])
        #expect(entry.attempts?.map(\.changed) == [[], []], "an edit that left the file as it was changed nothing")
        #expect(entry.attempts?.first?.problem?.contains("changed nothing") == true)
        #expect(entry.attempts?.last?.problem == "the answer held no edit")
        #expect(ScriptedGenerator.chunk(of: generator.requests[1]).contains("changed nothing"), "the reason goes back to the model")
    }

    @Test func theWholeFileRewriteIsOfferedOnlyAfterAnAttemptWithoutAUsableEdit() async throws {
        let fixture = try RunnerFixture()
        defer { fixture.remove() }
        try fixture.repository.commit([.file("calc.py", Self.buggy), .file("check.py", Self.check)], message: "base")
        let spec = try fixture.spec("""
            tasks:
              - {id: fix-add, kind: patch, at: main, instruction: "Make add return the sum.", files: [calc.py], verify: "python3 check.py", attempts: 2}

            """)
        let generator = ScriptedGenerator { _ in Self.rewrite("calc.py", "def add(a, b):\n    return a + b\n") }
        let environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
        _ = try await fixture.run(fixture.options(spec, environment: environment), generator: generator)
        let journal = try #require(fixture.output("out", "results.jsonl"))
        let entry = try JSONDecoder().decode(JournalEntry.self, from: journal.split(separator: UInt8(ascii: "\n"))[0])
        #expect(entry.status == .ok, "\(entry.detail)")
        #expect(entry.attempts?.map(\.outcome) == ["no usable edit", "ok"])
        #expect(entry.attempts?.first?.refused.first?.reason.contains("not offered") == true)
        let schemas = generator.requests.compactMap { request -> JSONValue? in
            guard case let .jsonSchema(_, schema)? = request.constraint else { return nil }
            return schema
        }
        #expect(schemas.map { $0["properties"]?["rewrites"] != nil } == [false, true])
    }

    @Test func hostileEditsAreRefusedWithReasonsAndTheUsersCheckoutIsUntouched() async throws {
        let fixture = try RunnerFixture()
        defer { fixture.remove() }
        try fixture.repository.commit([
            .file("a.txt", "alpha\n"), .symlink("etc", to: "/etc"), .file("check.sh", "exit 0\n"),
        ], message: "base")
        _ = try fixture.repository.git(["checkout", "-q", "-f", "main"])
        let statusBefore = try fixture.repository.gitText(["status", "--porcelain", "--ignored"])
        let headBefore = try fixture.repository.gitText(["rev-parse", "HEAD"])
        let hostname = try? String(contentsOfFile: "/etc/hostname", encoding: .utf8)
        let escape = "sparrow-escape-\(UUID().uuidString).txt"
        let spec = try fixture.spec("""
            tasks:
              - {id: hostile, kind: patch, at: main, instruction: "Change alpha.", files: [a.txt], verify: "sh check.sh", attempts: 1}

            """)
        let huge = String(repeating: "x", count: 10 << 20)
        let generator = ScriptedGenerator { _ in
            Self.edit([
                ("/etc/passwd", "root", "pwned"),
                ("../\(escape)", "a", "pwned"),
                (".git/hooks/pre-commit", "", "#!/bin/sh\necho pwned\n"),
                ("etc/hostname", "a", "pwned"),
                ("a.txt", "alpha", huge),
            ])
        }
        let environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
        _ = try await fixture.run(fixture.options(spec, environment: environment), generator: generator)

        let journal = try #require(fixture.output("out", "results.jsonl"))
        let entry = try JSONDecoder().decode(JournalEntry.self, from: journal.split(separator: UInt8(ascii: "\n"))[0])
        #expect(entry.status == .failed)
        let refused = try #require(entry.attempts?.first?.refused)
        let reasons = Dictionary(refused.map { ($0.path, $0.reason) }, uniquingKeysWith: { first, _ in first })
        #expect(reasons["/etc/passwd"]?.contains("absolute path") == true)
        #expect(reasons["../\(escape)"]?.contains("'..'") == true)
        #expect(reasons[".git/hooks/pre-commit"]?.contains(".git/") == true)
        #expect(reasons["etc/hostname"]?.contains("symlink") == true)
        #expect(reasons["a.txt"]?.contains("bytes (at most") == true)
        #expect(entry.attempts?.first?.outcome == "no usable edit")
        #expect(entry.patch == nil)

        #expect(try fixture.repository.gitText(["status", "--porcelain", "--ignored"]) == statusBefore)
        #expect(try fixture.repository.gitText(["rev-parse", "HEAD"]) == headBefore)
        #expect(!FileManager.default.fileExists(atPath: fixture.repository.url.appendingPathComponent(".git/hooks/pre-commit").path))
        #expect(!FileManager.default.fileExists(atPath: FileManager.default.temporaryDirectory.appendingPathComponent(escape).path))
        #expect((try? String(contentsOfFile: "/etc/hostname", encoding: .utf8)) == hostname)
    }

    @Test func theGuardRefusesPathsByTextAndSymlinksOnDisk() throws {
        #expect(EditGuard.problem(with: "Sources/a.swift") == nil)
        #expect(EditGuard.problem(with: "/abs") != nil)
        #expect(EditGuard.problem(with: "a/../../b") != nil)
        #expect(EditGuard.problem(with: ".git/config") != nil)
        #expect(EditGuard.problem(with: "sub/.GIT/config") != nil)
        #expect(EditGuard.problem(with: "a//b") != nil)
        let folder = try TemporaryDirectory(prefix: "sparrow-guard")
        defer { folder.remove() }
        try FileManager.default.createSymbolicLink(atPath: folder.url.appendingPathComponent("out").path, withDestinationPath: "/tmp")
        let editGuard = EditGuard(root: folder.url)
        #expect(editGuard.write("x", to: "out/escaped.txt")?.reason.contains("symlink") == true)
        #expect(editGuard.write("x", to: "in/ok.txt") == nil)
        #expect(FileManager.default.contents(atPath: folder.url.appendingPathComponent("in/ok.txt").path) == Data("x".utf8))
    }

    @Test func everyRewriteLooksNewerToWholeSecondCaches() throws {
        let folder = try TemporaryDirectory(prefix: "sparrow-guard")
        defer { folder.remove() }
        let editGuard = EditGuard(root: folder.url)
        var seconds: [Int] = []
        for text in ["return a * b\n", "return a + b\n", "return a * b\n"] {
            #expect(editGuard.write(text, to: "calc.py") == nil)
            var info = stat()
            #expect(lstat(folder.url.appendingPathComponent("calc.py").path, &info) == 0)
            seconds.append(Int(info.st_mtim.tv_sec))
        }
        #expect(seconds[1] > seconds[0] && seconds[2] > seconds[1], "\(seconds)")
    }

    @Test func answersAreParsedStrictly() {
        #expect(EditAnswer.parse("{\"edits\": []}").answer?.items.isEmpty == true)
        #expect(EditAnswer.parse("[1]").problem != nil)
        #expect(EditAnswer.parse("{\"edits\": [], \"shell\": \"rm -rf /\"}").problem?.contains("shell") == true)
        #expect(EditAnswer.parse("{\"edits\": [{\"a\": {\"search\": \"x\"}}]}").problem?.contains("edits[0]") == true)
        #expect(EditAnswer.parse("{\"edits\": [{\"a\": {\"search\": \"x\", \"replace\": \"y\"}, \"b\": {}}]}").problem != nil)
    }
}

/// The request side of patch tasks: the schema ties SEARCH to each file's text; files are found from the instruction.
@Suite struct PatchRequestTests {
    @Test func theSchemaTiesSearchToEachFilesText() throws {
        let files = [(path: "a.py", text: "x = 1\n"), (path: "big.py", text: String(repeating: "y = 2\n", count: 1000))]
        let schema = EditSchema.schema(files: files)
        guard case let .array(branches)? = schema["properties"]?["edits"]?["items"]?["oneOf"] else {
            Issue.record("edits.items.oneOf is missing")
            return
        }
        #expect(branches.count == 2)
        for (branch, file) in zip(branches, files) {
            #expect(branch["required"] == .array([.string(file.path)]))
            #expect(branch["properties"]?[file.path]?["properties"]?["search"]?[EditSchema.substringKeyword] == .string(file.text))
        }
        #expect(EditSchema.schema(files: files, rewrites: false)["properties"]?["rewrites"] == nil)
        guard case let .array(rewrites)? = schema["properties"]?["rewrites"]?["items"]?["oneOf"] else {
            Issue.record("rewrites.items.oneOf is missing")
            return
        }
        #expect(rewrites.count == 1, "only the small file may be rewritten whole")
        #expect(rewrites.first?["required"] == .array([.string("a.py")]))
    }

    @Test func filesAreFoundFromTheInstructionsNames() throws {
        let folder = try TemporaryDirectory(prefix: "sparrow-finder")
        defer { folder.remove() }
        try folder.write("def parse_range(text):\n    return text\n", to: "src/ranges.py")
        try folder.write("def unrelated():\n    pass\n", to: "src/other.py")
        try folder.write("print('parse_range')\n", to: "docs/example.py")
        try folder.write("secret\n", to: ".hidden/parse_range.py")
        let found = FileFinder().find(instruction: "Make parse_range reject an empty upper bound.", in: folder.url, budgetBytes: 10_000)
        #expect(found == ["docs/example.py", "src/ranges.py"])
        let byPath = FileFinder().find(instruction: "Fix the bug in src/other.py", in: folder.url, budgetBytes: 10_000)
        #expect(byPath.first == "src/other.py")
    }
}
