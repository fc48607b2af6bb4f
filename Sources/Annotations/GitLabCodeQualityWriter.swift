/// Writes findings as a GitLab Code Quality report (`gl-code-quality.json`, `artifacts:reports:codequality`): a
/// JSON array of Code Climate issues, each with a unique fingerprint (GitLab merges issues that share one).
public struct GitLabCodeQualityWriter: Sendable {
    /// A writer.
    public init() {}

    struct Issue: Encodable {
        let type = "issue"
        let checkName: String
        let description: String
        let fingerprint: String
        let severity: String
        let location: Location
        enum CodingKeys: String, CodingKey {
            case type, checkName = "check_name", description, fingerprint, severity, location
        }
    }

    struct Location: Encodable {
        let path: String
        let lines: Lines
    }

    struct Lines: Encodable {
        let begin: Int
        let end: Int
    }

    /// The report (UTF-8 JSON, ends with a newline). Throws when a fingerprint is missing or shared.
    public func write(_ findings: [Finding]) throws(AnnotationsError) -> String {
        let ordered = findings.canonicallySorted()
        var seen: [ByteKey: Finding] = [:]
        for finding in ordered {
            if finding.fingerprint.isEmpty {
                throw .missingFingerprint(ruleID: finding.ruleID, path: finding.path, line: finding.range.startLine)
            }
            if let first = seen.updateValue(finding, forKey: ByteKey(finding.fingerprint)) {
                throw .duplicateFingerprint(
                    fingerprint: finding.fingerprint, firstPath: first.path, firstLine: first.range.startLine,
                    secondPath: finding.path, secondLine: finding.range.startLine)
            }
        }
        let issues = ordered.map { finding in
            Issue(
                checkName: finding.ruleID, description: finding.message, fingerprint: finding.fingerprint,
                severity: finding.severity.gitlabSeverity,
                location: Location(path: finding.path, lines: Lines(begin: finding.range.startLine, end: finding.range.endLine)))
        }
        return try JSONText.encode(issues, pretty: true, format: "GitLab Code Quality") + "\n"
    }
}
