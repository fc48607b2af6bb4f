import Testing

@testable import Annotations

@Suite struct GitHubWriterTests {
    @Test func sampleMatchesGolden() throws {
        let findings = try SampleFindings.findings()
        try FixtureFiles.expectGolden(GitHubWorkflowCommandsWriter().write(findings), named: "sample.github.txt")
        try FixtureFiles.expectGolden(GitHubStepSummaryWriter().write(findings), named: "sample.summary.md")
    }

    @Test func commandsParseBackAsTheRunnerReadsThem() throws {
        let findings = try SampleFindings.findings().canonicallySorted()
        let lines = GitHubWorkflowCommandsWriter().write(findings).split(separator: "\n").map(String.init)
        #expect(lines.count == findings.count)
        for finding in findings {
            let expected = WorkflowCommand(
                name: finding.severity.githubCommand,
                properties: [
                    "file": finding.path, "line": String(finding.range.startLine), "endLine": String(finding.range.endLine),
                    "title": finding.ruleID,
                ].merging(
                    [("col", finding.range.startColumn), ("endColumn", finding.range.endColumn)].compactMap { key, value in
                        value.map { (key, String($0)) }
                    }, uniquingKeysWith: { a, _ in a }),
                message: finding.message)
            #expect(lines.compactMap(WorkflowCommand.init(line:)).contains(expected), "\(finding.message.debugDescription)")
        }
    }

    @Test func atMostTenAnnotationsPerType() throws {
        var findings: [Finding] = []
        for line in 1...25 {
            findings.append(try Finding(ruleID: "w", severity: .warning, message: "w\(line)", path: "a.swift", range: SourceRange(startLine: line), taskID: "t"))
        }
        for line in 1...3 {
            findings.append(try Finding(ruleID: "e", severity: .error, message: "e\(line)", path: "a.swift", range: SourceRange(startLine: line), taskID: "t"))
        }
        let commands = GitHubWorkflowCommandsWriter().write(findings).split(separator: "\n").compactMap { WorkflowCommand(line: String($0)) }
        #expect(commands.filter { $0.name == "error" }.count == 3)
        let warnings = commands.filter { $0.name == "warning" }
        #expect(warnings.count == GitHubWorkflowCommandsWriter.annotationsPerType)
        #expect(warnings.last?.message == "16 more warning findings not shown as annotations; see the step summary.")
        #expect(warnings.dropLast().map(\.message) == (1...9).map { "w\($0)" })
    }

    @Test func summaryStaysWithinItsByteBudget() throws {
        var findings: [Finding] = []
        for line in 1...50 {
            findings.append(try Finding(
                ruleID: "r", severity: .warning, message: String(repeating: "long message ", count: 50),
                path: String(repeating: "deep/", count: 40) + "file.swift", range: SourceRange(startLine: line), taskID: "t"))
        }
        let unlimited = GitHubStepSummaryWriter().write(findings)
        #expect(!unlimited.contains("more; the SARIF file"))
        let budget = unlimited.utf8.count / 3
        let summary = GitHubStepSummaryWriter(maxBytes: budget).write(findings)
        #expect(summary.utf8.count <= budget)
        let rows = summary.split(separator: "\n").filter { $0.hasPrefix("| warning | deep/") }.count
        #expect(rows > 0 && rows < findings.count)
        #expect(summary.hasSuffix("…and \(findings.count - rows) more; the SARIF file lists them all.\n"))
        let capped = GitHubStepSummaryWriter(maxRows: 7).write(findings)
        #expect(capped.hasSuffix("…and 43 more; the SARIF file lists them all.\n"))
    }

    @Test func summaryCellsStayInTheirCell() {
        let cell = GitHubStepSummaryWriter.cell("a | b\nc `d` <b>x</b> \\")
        #expect(!cell.contains("\n"))
        #expect(cell == #"a \| b c \`d\` \<b\>x\</b\> \\"#)
    }
}
