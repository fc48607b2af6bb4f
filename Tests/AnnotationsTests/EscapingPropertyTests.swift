import Foundation
import TestSupport
import Testing

@testable import Annotations

/// Random messages and paths (newlines, `%`, `:`, `,`, controls, markup, non-ASCII, a 100 KB message) give valid
/// output in every format, and every format gives the text back as its own parser reads it.
@Suite struct EscapingPropertyTests {
    /// Batches of random findings, plus one finding whose message is 100 KB of awkward text.
    private static func batches() throws -> [[Finding]] {
        var generator = SeededGenerator(seed: 2026)
        var batches: [[Finding]] = []
        for _ in 0..<12 {
            batches.append(try Fingerprinter.assign((0..<10).map { _ in try randomFinding(using: &generator) }))
        }
        var huge = ""
        while huge.utf8.count < 100_000 { huge += RandomText.string(maxPieces: 40, using: &generator) }
        batches.append(try Fingerprinter.assign([
            Finding(
                ruleID: "big", severity: .error, message: huge, path: "dir with space/Ünïcode 日本.swift",
                range: SourceRange(startLine: 1), fix: Fix(startLine: 1, endLine: 1, replacement: huge), taskID: "big"),
        ]))
        return batches
    }

    @Test func sarifValidatesAndKeepsMessagesAndPaths() throws {
        let batches = try Self.batches()
        var documents: [String] = []
        for findings in batches {
            let text = try SARIFWriter(tool: SampleFindings.tool).write(findings).text
            documents.append(text)
            let results = try #require(try decodeJSON(Decoded.SARIFLog.self, text).runs.first).results
            #expect(Set(results.map { ByteString($0.message.text) }) == Set(findings.map { ByteString($0.message) }))
            let uris = results.compactMap { $0.locations.first?.physicalLocation.artifactLocation.uri }
            #expect(Set(uris.compactMap { $0.removingPercentEncoding }.map(ByteString.init)) == Set(findings.map { ByteString($0.path) }))
        }
        try SchemaValidator.expectValid(documents, schema: FixtureFiles.sarifSchema)
    }

    @Test func rdjsonlLinesValidateAndKeepMessages() throws {
        var lines: [String] = []
        for findings in try Self.batches() {
            let text = try RDJSONLWriter().write(findings)
            let batchLines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
            #expect(batchLines.count == findings.count, "one diagnostic per line, no raw line ends inside")
            let diagnostics = try batchLines.map { try decodeJSON(Decoded.Diagnostic.self, $0) }
            #expect(Set(diagnostics.map { ByteString($0.message) }) == Set(findings.map { ByteString($0.message) }))
            #expect(Set(diagnostics.map { ByteString($0.location.path) }) == Set(findings.map { ByteString($0.path) }))
            lines += batchLines
        }
        try SchemaValidator.expectValid(lines, schema: FixtureFiles.diagnosticSchema)
    }

    @Test func gitlabReportsParseAndKeepText() throws {
        for findings in try Self.batches() {
            let issues = try decodeJSON([Decoded.GitLabIssue].self, try GitLabCodeQualityWriter().write(findings))
            #expect(Set(issues.map { ByteString($0.description) }) == Set(findings.map { ByteString($0.message) }))
            #expect(Set(issues.map { ByteString($0.location.path) }) == Set(findings.map { ByteString($0.path) }))
        }
    }

    @Test func githubCommandsStayOneLineAndParseBack() throws {
        for findings in try Self.batches() {
            let text = GitHubWorkflowCommandsWriter().write(findings)
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
            #expect(lines.count == findings.count)
            #expect(!text.unicodeScalars.contains("\r"))
            let commands = lines.compactMap { WorkflowCommand(line: String($0)) }
            #expect(commands.count == findings.count)
            #expect(Set(commands.map { ByteString($0.message) }) == Set(findings.map { ByteString($0.message) }))
            #expect(Set(commands.compactMap { $0.properties["file"] }.map(ByteString.init)) == Set(findings.map { ByteString($0.path) }))
            #expect(Set(commands.compactMap { $0.properties["title"] }) == Set(findings.map(\.ruleID)))
            let summary = GitHubStepSummaryWriter().write(findings)
            let rows = summary.split(separator: "\n").filter { $0.hasPrefix("| error") || $0.hasPrefix("| warning") || $0.hasPrefix("| note") }
            #expect(rows.count == findings.count + 3, "one table row per finding plus the three count rows")
        }
    }

    @Test func checkstyleParsesAndKeepsText() throws {
        let batches = try Self.batches()
        let roots = try XMLReference.parse(batches.map { CheckstyleWriter().write($0) })
        for (findings, root) in zip(batches, roots) {
            let files = root.children(named: "file")
            #expect(Set(files.compactMap { $0.attributeValue("name") }.map(ByteString.init)) == Set(findings.map { ByteString(xmlVisible($0.path)) }))
            let messages = files.flatMap { $0.children(named: "error") }.compactMap { $0.attributeValue("message") }
            #expect(Set(messages.map(ByteString.init)) == Set(findings.map { ByteString(xmlVisible($0.message)) }))
        }
    }

    @Test func junitParsesAndKeepsText() throws {
        var generator = SeededGenerator(seed: 99)
        let batches = try Self.batches()
        let taskSets = batches.map { findings in
            Set(findings.map(\.taskID)).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }.map {
                TaskOutcome(
                    id: $0, kind: RandomText.string(maxPieces: 3, using: &generator),
                    status: TaskOutcome.Status.allCases.randomElement(using: &generator) ?? .ok,
                    detail: RandomText.string(maxPieces: 20, using: &generator))
            }
        }
        let roots = try XMLReference.parse(zip(batches, taskSets).map { JUnitWriter().write(tasks: $0.1, findings: $0.0) })
        for (tasks, root) in zip(taskSets, roots) {
            let cases = root.children(named: "testsuite").flatMap { $0.children(named: "testcase") }
            #expect(Set(cases.compactMap { $0.attributeValue("name") }.map(ByteString.init)) == Set(tasks.map { ByteString(xmlVisible($0.id)) }))
            for testCase in cases {
                let task = tasks.first { ByteString(xmlVisible($0.id)) == ByteString(testCase.attributeValue("name") ?? "") }
                let body = testCase.children(named: "failure").first ?? testCase.children(named: "error").first
                if let task, task.status == .failed || task.status == .error {
                    #expect(body.map { ByteString($0.text) } == ByteString(xmlVisible(task.detail)))
                }
            }
        }
    }
}

/// A string compared by its UTF-8 bytes (Swift's String equality would merge canonically equivalent texts).
struct ByteString: Hashable, CustomStringConvertible {
    let bytes: [UInt8]
    init(_ text: String) { bytes = Array(text.utf8) }
    var description: String { String(decoding: bytes, as: UTF8.self).debugDescription }
}
