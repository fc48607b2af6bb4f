import Annotations
public import Foundation

/// Receives progress events of a run (the CLI prints them on standard error).
public protocol RunReporter: Sendable {
    /// A line of information (`loading model…`, the dry-run plan, warnings).
    func message(_ text: String)
    /// A task ended; `done` of `total` tasks of this run are finished.
    func taskFinished(_ entry: JournalEntry, done: Int, total: Int, tokensPerSecond: Double, etaSeconds: Double?)
}

/// Progress on standard error: one line per event when stderr is not a terminal (CI logs), a line redrawn in place
/// when it is.
public struct StandardErrorReporter: RunReporter {
    public let isTerminal: Bool

    public init(isTerminal: Bool = isatty(2) == 1) {
        self.isTerminal = isTerminal
    }

    public func message(_ text: String) {
        write((isTerminal ? "\r\u{1B}[K" : "") + "sparrow: \(text)\n")
    }

    public func taskFinished(_ entry: JournalEntry, done: Int, total: Int, tokensPerSecond: Double, etaSeconds: Double?) {
        let findings = entry.findings.count
        let eta = etaSeconds.map { " · ETA \(Self.duration($0))" } ?? ""
        let rate = String(format: "%.1f", tokensPerSecond)
        let detail = entry.detail.isEmpty ? "" : " — \(entry.detail)"
        let line = "[\(done)/\(total)] \(entry.id): \(entry.status.rawValue), \(findings) finding\(findings == 1 ? "" : "s"), \(String(format: "%.1f", entry.seconds)) s\(detail) · \(rate) tokens/s\(eta)"
        write((isTerminal ? "\r\u{1B}[K" : "") + line + "\n")
    }

    static func duration(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        return total >= 60 ? "\(total / 60)m\(total % 60)s" : "\(total)s"
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
