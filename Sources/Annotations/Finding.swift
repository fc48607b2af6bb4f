/// One thing a review found, in no particular output format: every writer reads this type.
///
/// A `Finding` is checked when it is made (and when it is decoded from the journal), so writers never meet a
/// line 0 or an absolute path.
public struct Finding: Sendable, Hashable, Codable {
    /// The rule (a stable identifier such as `swift.force-unwrap`); non-empty, no newlines.
    public let ruleID: String
    /// How serious it is.
    public let severity: Severity
    /// What is wrong, for humans; any text (newlines, Unicode) is allowed.
    public let message: String
    /// Path relative to the repository root, `/`-separated: no leading `/`, no empty, `.` or `..` segments.
    public let path: String
    /// Where in the head commit's version of `path`.
    public let range: SourceRange
    /// The text of lines `range.startLine...range.endLine` at head (without line ends), or empty when unknown.
    /// Used for the fingerprint and to convert columns to formats that count bytes.
    public let flaggedLines: [String]
    /// An optional fix.
    public let fix: Fix?
    /// The id of the task (job spec entry) that produced it.
    public let taskID: String
    /// Stable identity across runs (see `Fingerprinter`); empty until assigned.
    public let fingerprint: String

    /// Makes a finding, checking every field; the error names the field and what was expected.
    public init(
        ruleID: String,
        severity: Severity,
        message: String,
        path: String,
        range: SourceRange,
        flaggedLines: [String] = [],
        fix: Fix? = nil,
        taskID: String,
        fingerprint: String = ""
    ) throws(AnnotationsError) {
        func invalid(_ field: String, _ reason: String) -> AnnotationsError {
            .invalidFinding(ruleID: ruleID, path: path, field: field, reason: reason)
        }
        if ruleID.isEmpty || ruleID.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw invalid("ruleID", "expected a non-empty identifier without control characters")
        }
        if let reason = Finding.pathProblem(path) { throw invalid("path", reason) }
        if !flaggedLines.isEmpty, flaggedLines.count != range.lineCount {
            throw invalid(
                "flaggedLines", "holds \(flaggedLines.count) lines; expected none or \(range.lineCount) (the range's lines)")
        }
        if flaggedLines.contains(where: { $0.contains(where: \.isNewline) }) {
            throw invalid("flaggedLines", "expected one line per element, without line ends")
        }
        if fingerprint.contains(where: { $0.isNewline || $0 == " " }) {
            throw invalid("fingerprint", "expected no spaces or line ends")
        }
        self.ruleID = ruleID
        self.severity = severity
        self.message = message
        self.path = path
        self.range = range
        self.flaggedLines = flaggedLines
        self.fix = fix
        self.taskID = taskID
        self.fingerprint = fingerprint
    }

    /// The same finding with another fingerprint.
    public func withFingerprint(_ fingerprint: String) throws(AnnotationsError) -> Finding {
        try Finding(
            ruleID: ruleID, severity: severity, message: message, path: path, range: range,
            flaggedLines: flaggedLines, fix: fix, taskID: taskID, fingerprint: fingerprint)
    }

    /// Why `path` is not a clean repository-relative path, or nil when it is.
    static func pathProblem(_ path: String) -> String? {
        if path.isEmpty { return "is empty; expected a path relative to the repository root" }
        if path.hasPrefix("/") { return "is absolute; expected a path relative to the repository root" }
        if path.unicodeScalars.contains("\0") { return "contains a NUL character" }
        if path.contains("\\") { return "contains a backslash; expected `/` separators" }
        for segment in path.split(separator: "/", omittingEmptySubsequences: false) {
            switch segment {
            case "": return "has an empty segment (`//` or a trailing `/`)"
            case ".", "..": return "has a `\(segment)` segment; expected a normalised path"
            default: continue
            }
        }
        return nil
    }

    // MARK: Codable (the journal's form: snake_case keys, checked on the way in)

    private enum CodingKeys: String, CodingKey {
        case ruleID = "rule_id", severity, message, path, range, flaggedLines = "flagged_lines", fix
        case taskID = "task_id", fingerprint
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        do {
            try self.init(
                ruleID: container.decode(String.self, forKey: .ruleID),
                severity: container.decode(Severity.self, forKey: .severity),
                message: container.decode(String.self, forKey: .message),
                path: container.decode(String.self, forKey: .path),
                range: container.decode(SourceRange.self, forKey: .range),
                flaggedLines: container.decodeIfPresent([String].self, forKey: .flaggedLines) ?? [],
                fix: container.decodeIfPresent(Fix.self, forKey: .fix),
                taskID: container.decode(String.self, forKey: .taskID),
                fingerprint: container.decodeIfPresent(String.self, forKey: .fingerprint) ?? ""
            )
        } catch let error as AnnotationsError {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.description))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(ruleID, forKey: .ruleID)
        try container.encode(severity, forKey: .severity)
        try container.encode(message, forKey: .message)
        try container.encode(path, forKey: .path)
        try container.encode(range, forKey: .range)
        if !flaggedLines.isEmpty { try container.encode(flaggedLines, forKey: .flaggedLines) }
        try container.encodeIfPresent(fix, forKey: .fix)
        try container.encode(taskID, forKey: .taskID)
        if !fingerprint.isEmpty { try container.encode(fingerprint, forKey: .fingerprint) }
    }
}
