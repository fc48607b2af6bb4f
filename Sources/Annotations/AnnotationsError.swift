/// Everything that can go wrong in the `Annotations` module. Each message says what was expected and where.
public enum AnnotationsError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A finding's field holds a value the writers cannot represent (`field` names it, `reason` says what was
    /// expected).
    case invalidFinding(ruleID: String, path: String, field: String, reason: String)
    /// Two findings share a fingerprint, which GitLab treats as one issue (one of them would vanish).
    case duplicateFingerprint(fingerprint: String, firstPath: String, firstLine: Int, secondPath: String, secondLine: Int)
    /// A finding has no fingerprint; run `Fingerprinter.assign` before writing a format that needs one.
    case missingFingerprint(ruleID: String, path: String, line: Int)
    /// Foundation's JSON encoder refused a document (`format` names the writer).
    case encodingFailed(format: String, reason: String)

    public var description: String {
        switch self {
        case let .invalidFinding(ruleID, path, field, reason):
            "finding \(ruleID) at \(path.debugDescription): \(field): \(reason)"
        case let .duplicateFingerprint(fingerprint, firstPath, firstLine, secondPath, secondLine):
            "fingerprint \(fingerprint) is shared by \(firstPath.debugDescription):\(firstLine) and "
                + "\(secondPath.debugDescription):\(secondLine); expected one fingerprint per finding "
                + "(assign them with Fingerprinter.assign)"
        case let .missingFingerprint(ruleID, path, line):
            "finding \(ruleID) at \(path.debugDescription):\(line) has no fingerprint; expected one from Fingerprinter.assign"
        case let .encodingFailed(format, reason):
            "\(format): the JSON encoder failed: \(reason)"
        }
    }
}
