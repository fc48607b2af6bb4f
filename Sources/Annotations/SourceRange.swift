/// A span of lines (and optionally columns) in one file of the head commit.
///
/// Lines and columns are 1-based. Columns count Unicode scalars (code points), which is what SARIF calls
/// `unicodeCodePoints`; writers whose format counts something else (reviewdog counts UTF-8 bytes) convert using
/// the finding's `flaggedLines`. `endColumn` is exclusive (one past the last flagged character), as in SARIF and
/// reviewdog. Without columns the range covers whole lines, `endLine` included.
public struct SourceRange: Sendable, Hashable, Codable {
    /// First line, at least 1.
    public let startLine: Int
    /// First column, at least 1, or nil for whole lines.
    public let startColumn: Int?
    /// Last line, at least `startLine`.
    public let endLine: Int
    /// One past the last column, or nil (to the end of `endLine`). Needs `startColumn`.
    public let endColumn: Int?

    /// Checks the invariants above; the error names the broken one.
    public init(startLine: Int, startColumn: Int? = nil, endLine: Int? = nil, endColumn: Int? = nil) throws(RangeError) {
        let endLine = endLine ?? startLine
        guard startLine >= 1 else { throw RangeError("startLine is \(startLine); expected 1 or more") }
        guard endLine >= startLine else { throw RangeError("endLine \(endLine) is before startLine \(startLine)") }
        if let startColumn, startColumn < 1 { throw RangeError("startColumn is \(startColumn); expected 1 or more") }
        if let endColumn {
            guard let startColumn else { throw RangeError("endColumn \(endColumn) is given without a startColumn") }
            if endLine == startLine, endColumn < startColumn {
                throw RangeError("endColumn \(endColumn) is before startColumn \(startColumn) on line \(startLine)")
            }
            if endColumn < 1 { throw RangeError("endColumn is \(endColumn); expected 1 or more") }
        }
        self.startLine = startLine
        self.startColumn = startColumn
        self.endLine = endLine
        self.endColumn = endColumn
    }

    /// Number of lines covered.
    public var lineCount: Int { endLine - startLine + 1 }

    private enum CodingKeys: String, CodingKey {
        case startLine = "start_line", startColumn = "start_column", endLine = "end_line", endColumn = "end_column"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        do {
            try self.init(
                startLine: container.decode(Int.self, forKey: .startLine),
                startColumn: container.decodeIfPresent(Int.self, forKey: .startColumn),
                endLine: container.decode(Int.self, forKey: .endLine),
                endColumn: container.decodeIfPresent(Int.self, forKey: .endColumn)
            )
        } catch let error as RangeError {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.reason))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(startLine, forKey: .startLine)
        try container.encodeIfPresent(startColumn, forKey: .startColumn)
        try container.encode(endLine, forKey: .endLine)
        try container.encodeIfPresent(endColumn, forKey: .endColumn)
    }

    /// Why a range was refused.
    public struct RangeError: Error, Sendable, Equatable {
        /// What was expected.
        public let reason: String
        init(_ reason: String) { self.reason = reason }
    }
}

extension SourceRange: Comparable {
    /// Orders by start, then end; a whole-line range sorts before one with columns on the same line.
    public static func < (lhs: SourceRange, rhs: SourceRange) -> Bool {
        (lhs.startLine, lhs.startColumn ?? 0, lhs.endLine, lhs.endColumn ?? 0)
            < (rhs.startLine, rhs.startColumn ?? 0, rhs.endLine, rhs.endColumn ?? 0)
    }
}
