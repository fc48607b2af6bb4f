/// A suggested fix: new text for whole lines of the head commit.
///
/// Line-based on purpose: it is what GitHub suggested changes and reviewdog's review reporters can show, and it
/// maps exactly to SARIF (`deletedRegion` with lines only) and rdjsonl (a line-wise suggestion range).
public struct Fix: Sendable, Hashable, Codable {
    /// First line replaced, at least 1.
    public let startLine: Int
    /// Last line replaced, at least `startLine`.
    public let endLine: Int
    /// The new content of those lines, joined by `\n`, without a final newline. An empty string leaves one empty
    /// line.
    public let replacement: String

    /// Checks that the lines are 1-based and in order.
    public init(startLine: Int, endLine: Int, replacement: String) throws(SourceRange.RangeError) {
        guard startLine >= 1 else { throw SourceRange.RangeError("fix startLine is \(startLine); expected 1 or more") }
        guard endLine >= startLine else {
            throw SourceRange.RangeError("fix endLine \(endLine) is before its startLine \(startLine)")
        }
        self.startLine = startLine
        self.endLine = endLine
        self.replacement = replacement
    }

    private enum CodingKeys: String, CodingKey {
        case startLine = "start_line", endLine = "end_line", replacement
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        do {
            try self.init(
                startLine: container.decode(Int.self, forKey: .startLine),
                endLine: container.decode(Int.self, forKey: .endLine),
                replacement: container.decode(String.self, forKey: .replacement)
            )
        } catch let error as SourceRange.RangeError {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.reason))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(startLine, forKey: .startLine)
        try container.encode(endLine, forKey: .endLine)
        try container.encode(replacement, forKey: .replacement)
    }
}
