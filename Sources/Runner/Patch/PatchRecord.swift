/// One attempt of a patch task, as journaled: what the model proposed, what was refused, and what `verify` said.
public struct PatchAttempt: Sendable, Hashable, Codable {
    /// 1-based.
    public var number: Int
    /// Files whose text the attempt changed (edits that applied but left a file as it was do not count).
    public var changed: [String]
    /// Edits refused (hostile or unusable), with reasons.
    public var refused: [EditRefusal]
    /// `ok`, `no usable edit`, `unusable answer: …`, `verify failed`, `sandbox error: …`.
    public var outcome: String
    /// How `verify` ended (`exit 1`, `timed out after 900 s (process group killed)`), nil when it did not run.
    public var verify: String?
    /// The end of `verify`'s output (what went back to the model).
    public var output: String?
    /// The limits `verify` ran under (the task's `sandbox_limits`), nil when it did not run.
    public var sandboxLimits: SandboxLimits?
    /// Why an attempt had no usable edit when no edit was refused (e.g. every replacement equalled its search
    /// text), as told to the model; nil otherwise.
    public var problem: String?

    public init(
        number: Int, changed: [String] = [], refused: [EditRefusal] = [], outcome: String, verify: String? = nil, output: String? = nil,
        sandboxLimits: SandboxLimits? = nil
    ) {
        self.number = number
        self.changed = changed
        self.refused = refused
        self.outcome = outcome
        self.verify = verify
        self.output = output
        self.sandboxLimits = sandboxLimits
    }

    enum CodingKeys: String, CodingKey {
        case number, changed, refused, outcome, verify, output, problem
        case sandboxLimits = "sandbox_limits"
    }
}
