/// A value from the spec together with where it was written, for errors found after loading (an unset variable,
/// a revision that does not resolve).
public struct Located<Value: Sendable & Hashable>: Sendable, Hashable {
    public var value: Value
    public var location: SourceLocation

    public init(_ value: Value, at location: SourceLocation) {
        self.value = value
        self.location = location
    }
}

/// A version-1 job spec (DESIGN.md §3), validated and typed. Defaults are filled in; per-task generation settings
/// already include `defaults`.
public struct JobSpec: Sendable, Hashable {
    /// The spec file as the user named it.
    public var file: String
    /// The folder relative paths resolve against (the spec's folder).
    public var baseDirectory: String
    public var version: Int
    public var model: ModelSettings
    /// The repository path, `${VAR}` not yet expanded.
    public var repository: Located<String>
    public var sandbox: SandboxMode
    public var tasks: [TaskSpec]
    public var outputs: OutputSettings

    /// How many tasks of each kind, e.g. `3 tasks (1 review, 1 patch, 1 tests)`.
    public var taskSummary: String {
        let counts = TaskKindName.allCases.map { kind in (kind, tasks.filter { $0.kind.name == kind }.count) }
        let parts = counts.filter { $0.1 > 0 }.map { "\($0.1) \($0.0.rawValue)" }
        let noun = tasks.count == 1 ? "task" : "tasks"
        return parts.isEmpty ? "\(tasks.count) \(noun)" : "\(tasks.count) \(noun) (\(parts.joined(separator: ", ")))"
    }
}

/// Where generation happens: a local GGUF file, or an OpenAI-compatible server.
public enum ModelSource: Sendable, Hashable {
    /// A local model file, `${VAR}` not yet expanded.
    case file(path: Located<String>)
    /// An OpenAI-compatible server.
    case server(url: Located<String>, name: String, apiKeyVariable: String?, timeout: DurationSpec)
}

/// `model:`.
public struct ModelSettings: Sendable, Hashable {
    public var source: ModelSource
    /// Tokens per sequence; nil means the model's own context length, at most 32768.
    public var context: Int?
    /// Worker threads; 0 means one per core.
    public var threads: Int
    /// Sequences decoded together.
    public var parallel: Int
    /// Budget for caches; nil means three quarters of the memory this process may use (RAM, or the cgroup limit), less
    /// the weights held in memory.
    public var memory: ByteCount?
    /// Where a local model's weights live (`model.weights`).
    public var weights: ModelWeights = .mapped
}

/// `model.weights`: where a local model's weights live while Sparrow runs.
public enum ModelWeights: String, Sendable, Hashable, CaseIterable {
    /// Mapped from the file: nothing read up front, pages shared and reclaimable (the default).
    case mapped
    /// The file read into huge-page memory at load: faster decoding, the file's size held in RAM.
    case memory
    /// As `memory`, and the Q4_K and Q6_K matrices also copied at load into a layout of 16-row groups in huge-page
    /// memory: faster prefill and batched decoding (same results), about twice the file's size held in RAM and a
    /// longer load.
    case repacked
    /// The most of the three above that this machine holds with room to spare, chosen at load from the file's size,
    /// the memory this process may use and the cache budget: `repacked` (where the CPU has its kernels), else
    /// `memory`, else `mapped`.
    case auto
}

/// `sandbox:`: how model-written code is run.
public enum SandboxMode: String, Sendable, Hashable, CaseIterable {
    /// bubblewrap: no network, read-only system, only the worktree writable.
    case bwrap
    /// No isolation. Must be chosen explicitly; Sparrow warns on every run.
    case none
}

/// Sampling and limits for the generation requests of a task (`defaults:` merged with the task's own keys).
public struct GenerationSettings: Sendable, Hashable {
    public var maxTokens: Int = 1024
    public var temperature: Double = 0
    public var topP: Double = 1
    public var topK: Int = 0
    public var seed: UInt64 = 0
    public var stop: [String] = []
    /// Wall-clock limit for the whole task.
    public var timeout = DurationSpec(seconds: 1800)

    public init() {}
}

/// The three kinds of task, by name.
public enum TaskKindName: String, Sendable, Hashable, CaseIterable {
    case review, patch, tests
}

/// One entry of `tasks:`.
public struct TaskSpec: Sendable, Hashable {
    /// Unique, stable id (it keys the journal and names output files).
    public var id: String
    public var location: SourceLocation
    public var kind: TaskKind
    public var generation: GenerationSettings
}

/// What a task does, with the keys of its kind.
public enum TaskKind: Sendable, Hashable {
    case review(ReviewTask)
    case patch(PatchTask)
    case tests(TestsTask)

    public var name: TaskKindName {
        switch self {
        case .review: .review
        case .patch: .patch
        case .tests: .tests
        }
    }
}

/// A revision to resolve in the repository, or `auto` for the pull/merge request base.
public enum RevisionSpec: Sendable, Hashable {
    /// `GITHUB_BASE_REF` or `CI_MERGE_REQUEST_DIFF_BASE_SHA`.
    case auto
    case revision(String)
}

/// Which findings are kept, by where they point (reviewdog's filter modes).
public enum ChangedLinesFilterMode: String, Sendable, Hashable, CaseIterable {
    case added
    case diffContext = "diff_context"
    case file
    case nofilter
}

/// `kind: review`.
public struct ReviewTask: Sendable, Hashable {
    public var base: Located<RevisionSpec>
    public var head: Located<String>
    public var paths: [Glob]
    public var exclude: [Glob]
    public var filter: ChangedLinesFilterMode
    public var contextLines: Int
}

/// `kind: patch`.
public struct PatchTask: Sendable, Hashable {
    public var at: Located<String>
    public var instruction: String
    /// Files to show the model; empty means found from the instruction.
    public var files: [String]
    public var setup: String?
    public var verify: String?
    public var attempts: Int
    /// Limits of each `verify` run (`sandbox_limits`, over those of `defaults`).
    public var sandboxLimits: SandboxLimitSettings
}

/// `kind: tests`.
public struct TestsTask: Sendable, Hashable {
    public var base: Located<RevisionSpec>
    public var head: Located<String>
    public var testDirectory: String?
    public var setup: String?
    public var run: String
    public var repeats: Int
    public var mustFailOnBase: Bool
    /// Limits of each `run` (`sandbox_limits`, over those of `defaults`).
    public var sandboxLimits: SandboxLimitSettings
}

/// The output formats `outputs.formats` may name.
public enum OutputFormat: String, Sendable, Hashable, CaseIterable {
    case sarif, github, gitlab, rdjsonl, checkstyle, junit
}

/// The least severe finding that fails the run (exit 1), or never.
public enum FailLevel: String, Sendable, Hashable, CaseIterable {
    case error, warning, note, never
}

/// `outputs:`.
public struct OutputSettings: Sendable, Hashable {
    public var directory: String
    public var formats: [OutputFormat]
    public var failOn: FailLevel
}
