// The one place where severities meet formats (DESIGN.md §4): GitHub error/warning/notice, SARIF
// error/warning/note, GitLab critical/major/info, checkstyle error/warning/info, rdjsonl ERROR/WARNING/INFO.

extension Severity {
    /// SARIF `result.level`.
    var sarifLevel: String {
        switch self {
        case .error: "error"
        case .warning: "warning"
        case .note: "note"
        }
    }

    /// GitHub workflow command name.
    var githubCommand: String {
        switch self {
        case .error: "error"
        case .warning: "warning"
        case .note: "notice"
        }
    }

    /// GitLab Code Quality `severity`.
    var gitlabSeverity: String {
        switch self {
        case .error: "critical"
        case .warning: "major"
        case .note: "info"
        }
    }

    /// Checkstyle `severity` attribute.
    var checkstyleSeverity: String {
        switch self {
        case .error: "error"
        case .warning: "warning"
        case .note: "info"
        }
    }

    /// reviewdog `Diagnostic.severity`.
    var rdjsonSeverity: String {
        switch self {
        case .error: "ERROR"
        case .warning: "WARNING"
        case .note: "INFO"
        }
    }
}
