import Annotations
import Jobs

/// The exit status of a finished run (DESIGN.md §4), first match wins: 3 a task ended `error`; 1 a finding at or
/// above `fail_on`, or a task `failed` unless `fail_on: never`; 0 otherwise. (2 and 130 are decided earlier.)
enum ExitStatus {
    static func code(entries: [JournalEntry], findings: [Finding], failOn: FailLevel) -> Int32 {
        if entries.contains(where: { $0.status == .error }) { return 3 }
        guard failOn != .never else { return 0 }
        if entries.contains(where: { $0.status == .failed }) { return 1 }
        let threshold: Severity = switch failOn {
        case .error: .error
        case .warning: .warning
        case .note, .never: .note
        }
        return findings.contains { $0.severity >= threshold } ? 1 : 0
    }
}
