/// How one task of the job ended, as DESIGN.md §4 defines the statuses; JUnit shows one test case per task.
public struct TaskOutcome: Sendable, Hashable, Codable {
    /// Task status.
    public enum Status: String, Sendable, Hashable, Codable, CaseIterable {
        /// Ran and produced its result.
        case ok
        /// Ran; there was nothing to change.
        case noChange = "no-change"
        /// Ran, but produced nothing acceptable (e.g. no patch passed `verify`).
        case failed
        /// Could not run (repository, model or sandbox trouble).
        case error
    }

    /// The task id from the job spec.
    public var id: String
    /// Its kind (`review`, `patch`, `tests`).
    public var kind: String
    /// How it ended.
    public var status: Status
    /// Why it failed or errored, or other notes; may be empty.
    public var detail: String

    /// Describes one task's end.
    public init(id: String, kind: String, status: Status, detail: String = "") {
        self.id = id
        self.kind = kind
        self.status = status
        self.detail = detail
    }
}
