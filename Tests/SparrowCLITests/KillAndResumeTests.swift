import Foundation
import TestSupport
import Testing

/// `kill -9` in the middle of a real `sparrow run` (against an OpenAI-compatible stub server on loopback), then
/// `--resume`: every task is in `results.jsonl` exactly once and the deterministic files equal an uninterrupted
/// run's byte for byte.
@Suite(.serialized) struct KillAndResumeTests {
    static let deterministicFiles = ["sparrow.sarif", "gl-code-quality.json", "annotations.rdjsonl", "checkstyle.xml", "junit.xml"]

    /// Answers each chat request with one finding on the last line its schema allows, after `delay` seconds.
    static func stub(delay: Double) throws -> HTTPStub {
        try HTTPStub { request in
            let body = request.jsonBody ?? [:]
            let format = body["response_format"] as? [String: Any]
            let schema = (format?["json_schema"] as? [String: Any])?["schema"] as? [String: Any]
            let items = ((schema?["properties"] as? [String: Any])?["findings"] as? [String: Any])?["items"] as? [String: Any]
            let properties = items?["properties"] as? [String: Any]
            let line = ((properties?["line"] as? [String: Any])?["maximum"] as? NSNumber)?.intValue ?? 1
            let path = ((properties?["path"] as? [String: Any])?["enum"] as? [String])?.first ?? "?"
            let answer = #"{"findings": [{"rule": "correctness", "severity": "warning", "path": "\#(path)", "line": \#(line), "end_line": \#(line), "message": "check line \#(line)"}]}"#
            let escaped = String(decoding: (try? JSONSerialization.data(withJSONObject: [answer])) ?? Data("[\"\"]".utf8), as: UTF8.self).dropFirst().dropLast()
            let chunk = #"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":\#(escaped)},"finish_reason":null}]}"#
            let done = #"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":100,"completion_tokens":30,"total_tokens":130}}"#
            return [.sleep(delay), .eventStreamHead(), .event(chunk), .event(done), .event("[DONE]"), .close]
        }
    }

    static func repository() throws -> (GitRepository, String) {
        let repository = try GitRepository()
        try repository.commit([.file("a.txt", (1...5).map { "line \($0)" }.joined(separator: "\n") + "\n")], message: "one")
        try repository.commit([.file("a.txt", (1...9).map { "line \($0)" }.joined(separator: "\n") + "\n"), .file("b.txt", "bee\n")], message: "two")
        let tasks = (0..<8).map { "  - {id: task-\($0), kind: review, base: main~1, head: main, paths: [\"\($0 % 2 == 0 ? "*.txt" : "a.txt")\"]}" }
        let spec = "version: 1\nmodel: {path: unused.gguf, parallel: 2}\nrepository: \(repository.url.path)\ntasks:\n"
            + tasks.joined(separator: "\n") + "\noutputs: {formats: [sarif, gitlab, rdjsonl, checkstyle, junit], fail_on: never}\n"
        return (repository, spec)
    }

    static func journalIDs(_ url: URL) -> [String] {
        guard let data = FileManager.default.contents(atPath: url.path) else { return [] }
        return data.split(separator: UInt8(ascii: "\n")).compactMap { line in
            (try? JSONSerialization.jsonObject(with: line) as? [String: Any])?["id"] as? String
        }
    }

    /// Starts `sparrow run` in the background (output discarded) and waits, at most 60 s, until its journal holds
    /// `tasks` lines or it ends.
    static func startRun(spec: String, model url: String, out: URL, untilJournaled tasks: Int) throws -> ChildProcess {
        let process = try ChildProcess(argv: [SparrowBinary.url.path, "run", spec, "--model", url, "--out", out.path],
                                       environment: ProcessInfo.processInfo.environment)
        let deadline = Date().addingTimeInterval(60)
        while journalIDs(out.appendingPathComponent("results.jsonl")).count < tasks, process.isRunning, Date() < deadline {
            Thread.sleep(forTimeInterval: 0.02)
        }
        return process
    }

    @Test func killedRunResumesToTheSameFiles() throws {
        let server = try Self.stub(delay: 0.4)
        defer { server.stop() }
        let (repository, specText) = try Self.repository()
        defer { repository.remove() }
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let spec = try folder.write(specText, to: "jobs.yaml").path
        let url = server.baseURL.appendingPathComponent("v1").absoluteString

        let full = try SparrowBinary.run(["run", spec, "--model", url, "--out", folder.url.appendingPathComponent("full").path], watchdogSeconds: 60)
        #expect(full.exitCode == 0, "\(full.standardError)")
        #expect(Self.journalIDs(folder.url.appendingPathComponent("full/results.jsonl")).count == 8)

        // Start again and kill -9 once about half the tasks are journaled.
        let out = folder.url.appendingPathComponent("killed")
        let process = try Self.startRun(spec: spec, model: url, out: out, untilJournaled: 4)
        process.signal(SIGKILL)
        process.wait()
        let before = Self.journalIDs(out.appendingPathComponent("results.jsonl"))
        #expect(process.endedBySignal == true, "the run was killed, not finished")
        #expect(before.count >= 4 && before.count < 8, "killed after \(before.count) tasks")

        let resumed = try SparrowBinary.run(["run", spec, "--model", url, "--out", out.path, "--resume"], watchdogSeconds: 60)
        #expect(resumed.exitCode == 0, "\(resumed.standardError)")
        let after = Self.journalIDs(out.appendingPathComponent("results.jsonl"))
        #expect(after.sorted() == (0..<8).map { "task-\($0)" }, "every task exactly once")
        #expect(Array(after.prefix(before.count)) == before, "finished tasks were not redone")
        for file in Self.deterministicFiles {
            let a = FileManager.default.contents(atPath: folder.url.appendingPathComponent("full/\(file)").path)
            let b = FileManager.default.contents(atPath: out.appendingPathComponent(file).path)
            #expect(a != nil && a == b, "\(file) differs")
        }
    }

    @Test func interruptedRunExits130AndResumes() throws {
        let server = try Self.stub(delay: 0.4)
        defer { server.stop() }
        let (repository, specText) = try Self.repository()
        defer { repository.remove() }
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let spec = try folder.write(specText, to: "jobs.yaml").path
        let url = server.baseURL.appendingPathComponent("v1").absoluteString
        let out = folder.url.appendingPathComponent("out")
        let process = try Self.startRun(spec: spec, model: url, out: out, untilJournaled: 1)
        process.signal(SIGINT)
        if !process.wait(until: Date().addingTimeInterval(30)) { process.signal(SIGKILL) }
        process.wait()
        #expect(process.terminationStatus == 130)
        let resumed = try SparrowBinary.run(["run", spec, "--model", url, "--out", out.path, "--resume"], watchdogSeconds: 60)
        #expect(resumed.exitCode == 0)
        #expect(Self.journalIDs(out.appendingPathComponent("results.jsonl")).sorted() == (0..<8).map { "task-\($0)" })
    }
}
