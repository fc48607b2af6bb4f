import TestSupport
import Testing

@testable import Annotations

@Suite struct RDJSONLWriterTests {
    @Test func sampleMatchesGoldenAndEveryLineTheDiagnosticSchema() throws {
        let text = try RDJSONLWriter().write(SampleFindings.findings())
        try FixtureFiles.expectGolden(text, named: "sample.rdjsonl")
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.count == 4)
        try SchemaValidator.expectValid(lines, schema: FixtureFiles.diagnosticSchema)
    }

    @Test func validatorRefusesABrokenDiagnostic() throws {
        let result = try SchemaValidator.validate([#"{"message":"m","severity":"FATAL"}"#], schema: FixtureFiles.diagnosticSchema)
        #expect(result.exitCode != 0)
    }

    /// reviewdog's own example (Position in reviewdog.proto): in "a𐐀b" the column of b is 6.
    @Test func columnsBecomeUTF8Bytes() throws {
        #expect(TextEncoding.utf8Column(1, in: "a𐐀b") == 1)
        #expect(TextEncoding.utf8Column(2, in: "a𐐀b") == 2)
        #expect(TextEncoding.utf8Column(3, in: "a𐐀b") == 6)
        #expect(TextEncoding.utf8Column(4, in: "a𐐀b") == 7, "one past the end")
        let finding = try Finding(
            ruleID: "r", severity: .error, message: "m", path: "a.txt",
            range: SourceRange(startLine: 2, startColumn: 3, endLine: 2, endColumn: 4), flaggedLines: ["a𐐀b"], taskID: "t")
        let diagnostic = RDJSONLWriter().diagnostic(finding)
        #expect(diagnostic.location.range.start.column == 6)
        #expect(diagnostic.location.range.end.column == 7)
    }

    @Test func withoutLineTextColumnsAreLeftOutRatherThanGuessed() throws {
        let finding = try Finding(
            ruleID: "r", severity: .error, message: "m", path: "a.txt",
            range: SourceRange(startLine: 2, startColumn: 3, endLine: 2, endColumn: 4), taskID: "t")
        let range = RDJSONLWriter().diagnostic(finding).location.range
        #expect(range.start.column == nil && range.end.column == nil && range.start.line == 2)
    }
}
