public import Annotations
public import Generation

/// One finished task: one line of `results.jsonl` (DESIGN.md §5). Deterministic outputs are rebuilt from these
/// lines, so everything they need is here; timings are here too but never reach those files.
public struct JournalEntry: Sendable, Hashable, Codable {
    /// The task id.
    public var id: String
    /// SHA-256 of the resolved task (spec entry, commits, model, sampling, Sparrow version): `--resume` skips a
    /// task whose key matches.
    public var key: String
    public var kind: String
    public var status: TaskOutcome.Status
    /// Why the task failed or errored; empty when it is `ok`.
    public var detail: String
    /// Findings kept after filtering and suppression, before fingerprinting (fingerprints are assigned over the
    /// whole run when outputs are written).
    public var findings: [Finding]
    /// What a review looked at and what it left out.
    public var review: ReviewRecord?
    /// Generation requests made for the task.
    public var requests: Int
    public var usage: TokenUsage
    /// Wall-clock seconds the task took (volatile: not used by the deterministic outputs).
    public var seconds: Double
    /// Patch tasks: every attempt, with refused edits and the verification's summary and output.
    public var attempts: [PatchAttempt]?
    /// Tests tasks: every candidate test file, kept or dropped, with the reason.
    public var candidates: [TestCandidate]?
    /// The format-patch mail written to `patches/<id>.patch` (patch tasks, and tests tasks that kept tests).
    public var patch: String?
    /// Tests tasks: the kept test files, written under `tests/<id>/`.
    public var testFiles: [EmittedFile]?

    public init(
        id: String, key: String, kind: String, status: TaskOutcome.Status, detail: String = "",
        findings: [Finding] = [], review: ReviewRecord? = nil, requests: Int = 0, usage: TokenUsage = TokenUsage(),
        seconds: Double = 0
    ) {
        self.id = id
        self.key = key
        self.kind = kind
        self.status = status
        self.detail = detail
        self.findings = findings
        self.review = review
        self.requests = requests
        self.usage = usage
        self.seconds = seconds
    }

    enum CodingKeys: String, CodingKey {
        case id, key, kind, status, detail, findings, review, requests, usage, seconds
        case attempts, candidates, patch
        case testFiles = "test_files"
    }
}

/// What a review task reviewed and skipped, and what happened to the model's findings.
public struct ReviewRecord: Sendable, Hashable, Codable {
    /// A file or chunk that was not reviewed, and why.
    public struct Skipped: Sendable, Hashable, Codable {
        public var path: String
        /// `binary`, `excluded`, `generated`, `lock file`, `vendored`, `deleted`, `too large for the context`, …
        public var reason: String
        /// For a chunk: its head-side line range; nil for a whole file.
        public var lines: String?

        public init(path: String, reason: String, lines: String? = nil) {
            self.path = path
            self.reason = reason
            self.lines = lines
        }
    }

    /// The resolved commits.
    public var base: String
    public var head: String
    /// Files sent to the model.
    public var reviewedFiles: [String]
    /// Chunks sent to the model (and answered).
    public var chunks: Int
    public var skipped: [Skipped]
    /// Findings the model reported in total.
    public var proposed: Int
    /// Not reported because of where they point (`filter`), by placement (`context`, `file`, `outside`).
    public var filteredOut: [String: Int]
    /// Dropped as duplicates of another finding of the task.
    public var duplicates: Int
    /// Suppressed by a `sparrow-ignore` comment.
    public var ignored: Int
    /// Answers that could not be used (did not parse, or pointed outside their chunk).
    public var invalid: Int

    public init(
        base: String, head: String, reviewedFiles: [String] = [], chunks: Int = 0, skipped: [Skipped] = [],
        proposed: Int = 0, filteredOut: [String: Int] = [:], duplicates: Int = 0, ignored: Int = 0, invalid: Int = 0
    ) {
        self.base = base
        self.head = head
        self.reviewedFiles = reviewedFiles
        self.chunks = chunks
        self.skipped = skipped
        self.proposed = proposed
        self.filteredOut = filteredOut
        self.duplicates = duplicates
        self.ignored = ignored
        self.invalid = invalid
    }
}

/// A file a task emits (a kept test), with its path relative to the repository root.
public struct EmittedFile: Sendable, Hashable, Codable {
    public var path: String
    public var text: String

    public init(path: String, text: String) {
        self.path = path
        self.text = text
    }
}
