import Testing

@testable import Annotations

/// The same findings in any order give byte-identical files in every format.
@Suite struct DeterminismTests {
    private func everyFormat(_ findings: [Finding], tasks: [TaskOutcome]) throws -> [String] {
        [
            try SARIFWriter(tool: SampleFindings.tool).write(findings).text,
            GitHubWorkflowCommandsWriter().write(findings),
            GitHubStepSummaryWriter().write(findings),
            try GitLabCodeQualityWriter().write(findings),
            try RDJSONLWriter().write(findings),
            CheckstyleWriter().write(findings),
            JUnitWriter().write(tasks: tasks, findings: findings),
        ]
    }

    @Test func anyOrderGivesTheSameBytes() throws {
        var generator = SeededGenerator(seed: 42)
        var raw = try (0..<80).map { _ in try randomFinding(using: &generator) }
        // Exact duplicates and canonically-equivalent-but-different paths are the hard cases for a sort.
        raw += raw.prefix(5)
        raw.append(try Finding(ruleID: "r", severity: .note, message: "m", path: "é.swift", range: SourceRange(startLine: 1), taskID: "t"))
        raw.append(try Finding(ruleID: "r", severity: .note, message: "m", path: "e\u{301}.swift", range: SourceRange(startLine: 1), taskID: "t"))
        let tasks = ["pr-review", "t2", "tâche ü", "t"].map { TaskOutcome(id: $0, kind: "review", status: .ok) }
        let reference = try everyFormat(Fingerprinter.assign(raw), tasks: tasks).map { Array($0.utf8) }
        for _ in 0..<10 {
            let shuffled = try Fingerprinter.assign(raw.shuffled(using: &generator))
            let outputs = try everyFormat(shuffled.shuffled(using: &generator), tasks: tasks.shuffled(using: &generator))
            #expect(outputs.map { Array($0.utf8) } == reference)
        }
    }
}
