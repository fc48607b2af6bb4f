/// How serious a finding is. Mapped per format as DESIGN.md §4 says (GitHub error/warning/notice, SARIF
/// error/warning/note, GitLab critical/major/info, checkstyle error/warning/info, rdjsonl ERROR/WARNING/INFO).
public enum Severity: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    case note
    case warning
    case error

    private var rank: Int {
        switch self {
        case .note: 0
        case .warning: 1
        case .error: 2
        }
    }

    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }
}
