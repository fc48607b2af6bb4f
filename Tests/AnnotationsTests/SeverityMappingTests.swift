import Testing

@testable import Annotations

/// DESIGN.md §4: GitHub error/warning/notice; SARIF error/warning/note; GitLab critical/major/info; checkstyle
/// error/warning/info; rdjsonl ERROR/WARNING/INFO.
@Suite struct SeverityMappingTests {
    @Test(arguments: [
        (Severity.error, ["error", "error", "critical", "error", "ERROR"]),
        (Severity.warning, ["warning", "warning", "major", "warning", "WARNING"]),
        (Severity.note, ["notice", "note", "info", "info", "INFO"]),
    ])
    func mapsAsTheDesignSays(severity: Severity, expected: [String]) {
        #expect([
            severity.githubCommand, severity.sarifLevel, severity.gitlabSeverity, severity.checkstyleSeverity,
            severity.rdjsonSeverity,
        ] == expected)
    }

    @Test func errorsOutrankWarningsOutrankNotes() {
        #expect(Severity.allCases.sorted(by: >) == [.error, .warning, .note])
    }
}
