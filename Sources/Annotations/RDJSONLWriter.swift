/// Writes findings as reviewdog rdjsonl: one `Diagnostic` (reviewdog's `proto/rdf/reviewdog.proto`) per line.
///
/// reviewdog counts columns in UTF-8 bytes; findings count Unicode scalars, so columns are converted with the
/// finding's `flaggedLines`. A finding without them gets a line-wise range (no columns) rather than a guess. A fix
/// becomes a line-wise suggestion over its lines.
public struct RDJSONLWriter: Sendable {
    /// `source.name` on every diagnostic.
    public let sourceName: String

    /// A writer.
    public init(sourceName: String = "sparrow") {
        self.sourceName = sourceName
    }

    struct Diagnostic: Encodable {
        let message: String
        let location: Location
        let severity: String
        let source: Source
        let code: Code
        let suggestions: [Suggestion]?
    }

    struct Location: Encodable {
        let path: String
        let range: Range
    }

    struct Range: Encodable {
        let start: Position
        let end: Position
    }

    struct Position: Encodable {
        let line: Int
        let column: Int?
    }

    struct Source: Encodable {
        let name: String
    }

    struct Code: Encodable {
        let value: String
    }

    struct Suggestion: Encodable {
        let range: Range
        let text: String
    }

    /// The diagnostics, one JSON object per line, each line ending with `\n`.
    public func write(_ findings: [Finding]) throws(AnnotationsError) -> String {
        var out = ""
        for finding in findings.canonicallySorted() {
            out += try JSONText.encode(diagnostic(finding), pretty: false, format: "rdjsonl") + "\n"
        }
        return out
    }

    func diagnostic(_ finding: Finding) -> Diagnostic {
        let range = finding.range
        let lines = finding.flaggedLines
        let start: Position
        let end: Position
        if let startColumn = range.startColumn, let first = lines.first, let last = lines.last {
            start = Position(line: range.startLine, column: TextEncoding.utf8Column(startColumn, in: first))
            end = Position(line: range.endLine, column: range.endColumn.map { TextEncoding.utf8Column($0, in: last) })
        } else {
            start = Position(line: range.startLine, column: nil)
            end = Position(line: range.endLine, column: nil)
        }
        return Diagnostic(
            message: finding.message,
            location: Location(path: finding.path, range: Range(start: start, end: end)),
            severity: finding.severity.rdjsonSeverity,
            source: Source(name: sourceName),
            code: Code(value: finding.ruleID),
            suggestions: finding.fix.map { fix in
                [Suggestion(
                    range: Range(start: Position(line: fix.startLine, column: nil), end: Position(line: fix.endLine, column: nil)),
                    text: fix.replacement)]
            })
    }
}
