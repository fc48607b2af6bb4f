/// One candidate test file of a tests task, as journaled: kept, or dropped with the reason.
public struct TestCandidate: Sendable, Hashable, Codable {
    /// Where the candidate was written, relative to the repository root.
    public var path: String
    public var kept: Bool
    /// Why it was kept (`fails on base`, `kills mutant …`) or dropped (`does not build or fails on head`,
    /// `flaky: passed 2 of 3 runs`, `catches nothing: …`, `refused: …`).
    public var reason: String
    /// Runs on head that passed, of those made.
    public var passedRuns: Int
    public var runs: Int
    /// The end of the output of the run that decided (a failing run, or the one that caught something).
    public var output: String?
    /// The limits its runs had (the task's `sandbox_limits`), nil when it never ran.
    public var sandboxLimits: SandboxLimits?

    enum CodingKeys: String, CodingKey {
        case path, kept, reason, runs, output
        case passedRuns = "passed_runs"
        case sandboxLimits = "sandbox_limits"
    }

    public init(
        path: String, kept: Bool, reason: String, passedRuns: Int = 0, runs: Int = 0, output: String? = nil,
        sandboxLimits: SandboxLimits? = nil
    ) {
        self.path = path
        self.kept = kept
        self.reason = reason
        self.passedRuns = passedRuns
        self.runs = runs
        self.output = output
        self.sandboxLimits = sandboxLimits
    }
}
