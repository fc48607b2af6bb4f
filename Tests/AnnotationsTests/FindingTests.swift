import Foundation
import Testing

@testable import Annotations

@Suite struct FindingTests {
    private func make(path: String = "a/b.swift", line: Int = 1, flagged: [String] = []) throws -> Finding {
        try Finding(
            ruleID: "r", severity: .warning, message: "m", path: path,
            range: SourceRange(startLine: line), flaggedLines: flagged, taskID: "t")
    }

    @Test(arguments: ["", "/abs/path.swift", "a/../b.swift", "./a.swift", "a//b.swift", "a/", "a\\b.swift"])
    func rejectsPathsThatAreNotCleanAndRelative(path: String) {
        #expect(throws: AnnotationsError.self) { try make(path: path) }
    }

    /// Kept out of the arguments above: a NUL in a test's name garbles the runner's log.
    @Test func rejectsPathsWithNUL() {
        #expect(throws: AnnotationsError.invalidFinding(ruleID: "r", path: "a\u{0}b", field: "path", reason: "contains a NUL character")) {
            try make(path: "a\u{0}b")
        }
    }

    @Test func rangeErrorsSayWhatWasExpected() {
        #expect(throws: SourceRange.RangeError("startLine is 0; expected 1 or more")) { try SourceRange(startLine: 0) }
        #expect(throws: SourceRange.RangeError("endLine 2 is before startLine 3")) { try SourceRange(startLine: 3, endLine: 2) }
        #expect(throws: SourceRange.RangeError("endColumn 4 is given without a startColumn")) {
            try SourceRange(startLine: 3, endColumn: 4)
        }
        #expect(throws: SourceRange.RangeError("endColumn 2 is before startColumn 5 on line 3")) {
            try SourceRange(startLine: 3, startColumn: 5, endColumn: 2)
        }
    }

    @Test func flaggedLinesMustMatchTheRange() throws {
        #expect(throws: AnnotationsError.self) { try make(flagged: ["one", "two"]) }
        #expect(throws: AnnotationsError.self) { try make(flagged: ["one\ntwo"]) }
        #expect(try make(flagged: ["one"]).flaggedLines == ["one"])
    }

    @Test func journalEncodingRoundTripsUnchanged() throws {
        var generator = SeededGenerator(seed: 7)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        for _ in 0..<200 {
            let finding = try randomFinding(using: &generator)
            let data = try encoder.encode(finding)
            let decoded = try JSONDecoder().decode(Finding.self, from: data)
            #expect(decoded == finding)
            #expect(try encoder.encode(decoded) == data)
        }
    }

    @Test func decodingRefusesWhatInitRefuses() throws {
        let json = #"{"rule_id":"r","severity":"error","message":"m","path":"/etc/passwd","range":{"start_line":1,"end_line":1},"task_id":"t"}"#
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Finding.self, from: Data(json.utf8)) }
        let zeroLine = #"{"rule_id":"r","severity":"error","message":"m","path":"a","range":{"start_line":0,"end_line":1},"task_id":"t"}"#
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Finding.self, from: Data(zeroLine.utf8)) }
        let fine = zeroLine.replacingOccurrences(of: "\"start_line\":0", with: "\"start_line\":1")
        #expect(try JSONDecoder().decode(Finding.self, from: Data(fine.utf8)).range.startLine == 1)
    }
}

/// A random valid finding (shared by the property tests).
func randomFinding(using generator: inout SeededGenerator, taskID: String? = nil) throws -> Finding {
    let start = Int.random(in: 1...500, using: &generator)
    let lines = Int.random(in: 1...3, using: &generator)
    let withColumns = Bool.random(using: &generator)
    let startColumn = withColumns ? Int.random(in: 1...20, using: &generator) : nil
    let endColumn = withColumns ? (startColumn ?? 1) + Int.random(in: 0...10, using: &generator) : nil
    let range = try SourceRange(startLine: start, startColumn: startColumn, endLine: start + lines - 1, endColumn: endColumn)
    let flagged = Bool.random(using: &generator)
        ? (0..<lines).map { _ in RandomText.string(using: &generator).filter { !$0.isNewline } } : []
    let fix = Bool.random(using: &generator)
        ? try Fix(startLine: start, endLine: start + lines - 1, replacement: RandomText.string(using: &generator)) : nil
    let rule = ["swift.force-unwrap", "naming", "perf.loop", "docs"].randomElement(using: &generator) ?? "r"
    return try Finding(
        ruleID: rule, severity: Severity.allCases.randomElement(using: &generator) ?? .note,
        message: RandomText.string(maxPieces: 20, using: &generator), path: RandomText.path(using: &generator),
        range: range, flaggedLines: flagged, fix: fix,
        taskID: taskID ?? ["pr-review", "t2", "tâche ü"].randomElement(using: &generator) ?? "t")
}
