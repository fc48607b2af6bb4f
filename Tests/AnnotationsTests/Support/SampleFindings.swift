import Annotations

/// A fixed set of findings and tasks that exercises every field: columns and whole lines, a fix, identical
/// flagged lines, a path with a space and non-ASCII, a message with every separator some format escapes.
enum SampleFindings {
    static let tool = ToolInfo(
        version: "0.1.0", informationURI: "https://example.invalid/sparrow",
        rules: ["swift.force-unwrap": RuleDescriptor(
            name: "NoForceUnwrap", shortDescription: "Force unwrap of an optional that can be nil.",
            help: "Bind the optional with `guard let` and handle nil.")])

    static func findings() throws -> [Finding] {
        try Fingerprinter.assign([
            Finding(
                ruleID: "swift.force-unwrap", severity: .error,
                message: "`y` can be nil here: the force unwrap crashes when the cache is cold.",
                path: "Sources/App/Main.swift",
                range: SourceRange(startLine: 12, startColumn: 13, endLine: 12, endColumn: 15),
                flaggedLines: ["    let x = y!"],
                fix: Fix(startLine: 12, endLine: 12, replacement: "    guard let x = y else { return }"),
                taskID: "pr-review"),
            Finding(
                ruleID: "swift.force-unwrap", severity: .error, message: "Same force unwrap again.",
                path: "Sources/App/Main.swift",
                range: SourceRange(startLine: 40, startColumn: 13, endLine: 40, endColumn: 15),
                flaggedLines: ["    let x = y!"], taskID: "pr-review"),
            Finding(
                ruleID: "naming.unclear", severity: .warning,
                message: "Line 1: 100% unclear,\nline 2: \"quoted\" <tag> & 'apostrophe'\r\nend: a::b",
                path: "Sources/Dir With Space/Ünïcode é.swift",
                range: SourceRange(startLine: 3, endLine: 4),
                flaggedLines: ["func f(ä: Int) {", "  return ä // 日本語"], taskID: "pr-review"),
            Finding(
                ruleID: "docs.wording", severity: .note, message: "Unicode → ✓ emoji 🐦 and a column after it.",
                path: "README.md", range: SourceRange(startLine: 1, startColumn: 3, endLine: 1, endColumn: 4),
                flaggedLines: ["🐦 x é"], taskID: "tests-lexer"),
        ])
    }

    static let tasks = [
        TaskOutcome(id: "pr-review", kind: "review", status: .ok, detail: "3 findings on added lines; 2 elsewhere counted"),
        TaskOutcome(id: "fix-1234", kind: "patch", status: .failed, detail: "no patch passed verify after 3 attempts\nlast: 2 tests failed"),
        TaskOutcome(id: "tests-lexer", kind: "tests", status: .error, detail: "sandbox: user namespaces are refused <here> & there"),
        TaskOutcome(id: "docs", kind: "review", status: .noChange),
    ]
}
