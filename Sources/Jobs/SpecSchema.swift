/// The table of every job-spec key (version 1): type, default and allowed values. The decoder takes the allowed
/// key names from it, and the README's key table is generated from it (a test keeps them equal).
public enum SpecSchema {
    /// A mapping of the spec that holds keys.
    public enum Section: String, Sendable, Hashable, CaseIterable {
        case top = ""
        case model = "model"
        case defaults = "defaults"
        case task = "tasks[]"
        case review = "tasks[] (review)"
        case patch = "tasks[] (patch)"
        case tests = "tasks[] (tests)"
        case outputs = "outputs"
        /// `sandbox_limits` in `defaults` and in patch and tests tasks.
        case sandboxLimits = "sandbox_limits"

        /// The key-path prefix used in messages and in the table (`model.`, `tasks[].`).
        var prefix: String {
            switch self {
            case .top: ""
            case .model: "model."
            case .defaults: "defaults."
            case .task, .review, .patch, .tests: "tasks[]."
            case .outputs: "outputs."
            case .sandboxLimits: "defaults.sandbox_limits."
            }
        }

        /// Which task kind a kind-specific section belongs to.
        var taskKind: TaskKindName? {
            switch self {
            case .review: .review
            case .patch: .patch
            case .tests: .tests
            default: nil
            }
        }
    }

    /// One key.
    public struct Key: Sendable, Hashable {
        public var section: Section
        public var name: String
        public var type: String
        public var defaultValue: String
        public var allowed: String
        /// A valid value in YAML flow syntax, used by tests that exercise every key.
        public var example: String

        public var isRequired: Bool { defaultValue == "required" }
        /// `model.context`, `tasks[].base`.
        public var path: String { section.prefix + name }
    }

    /// Keys that sampling and limits use, allowed in `defaults` and in every task.
    static let generationKeys: [Key] = [
        Key(section: .defaults, name: "max_tokens", type: "integer", defaultValue: "1024", allowed: "1 – 1048576", example: "512"),
        Key(section: .defaults, name: "temperature", type: "number", defaultValue: "0 (greedy)", allowed: "0 – 2", example: "0.2"),
        Key(section: .defaults, name: "top_p", type: "number", defaultValue: "1", allowed: "greater than 0, at most 1", example: "0.9"),
        Key(section: .defaults, name: "top_k", type: "integer", defaultValue: "0 (off)", allowed: "0 – 1000000", example: "40"),
        Key(section: .defaults, name: "seed", type: "integer", defaultValue: "0", allowed: "0 – 2^63−1", example: "7"),
        Key(section: .defaults, name: "stop", type: "list of strings", defaultValue: "[]", allowed: "at most 16 non-empty strings", example: "[\"</answer>\"]"),
        Key(section: .defaults, name: "timeout", type: "duration", defaultValue: "30m", allowed: "1s – 24h, as `90s`, `10m`, `1h30m` or seconds", example: "20m"),
    ]

    /// Every key, in the order of the README's table.
    public static let keys: [Key] = [
        Key(section: .top, name: "version", type: "integer", defaultValue: "required", allowed: "1", example: "1"),
        Key(section: .top, name: "model", type: "mapping", defaultValue: "required", allowed: "the keys `model.*` below", example: "{path: m.gguf}"),
        Key(section: .top, name: "repository", type: "path", defaultValue: "`.`", allowed: "a folder; `${VAR}` is expanded", example: "\"${CI_PROJECT_DIR}\""),
        Key(section: .top, name: "defaults", type: "mapping", defaultValue: "{}", allowed: "the keys `defaults.*` below", example: "{}"),
        Key(section: .top, name: "sandbox", type: "string", defaultValue: "`bwrap`", allowed: "`bwrap`, `none`", example: "none"),
        Key(section: .top, name: "tasks", type: "list of mappings", defaultValue: "required", allowed: "at least one task; keys `tasks[].*` below", example: "[{id: a, kind: review}]"),
        Key(section: .top, name: "outputs", type: "mapping", defaultValue: "{}", allowed: "the keys `outputs.*` below", example: "{}"),

        Key(section: .model, name: "path", type: "path", defaultValue: "required unless `url`", allowed: "a GGUF file; `${VAR}` is expanded", example: "\"${SPARROW_MODEL}/m.gguf\""),
        Key(section: .model, name: "url", type: "string", defaultValue: "—", allowed: "`http://` or `https://` base URL of an OpenAI-compatible server; `${VAR}` is expanded; not with `path`", example: "http://127.0.0.1:8000/v1"),
        Key(section: .model, name: "name", type: "string", defaultValue: "required with `url`", allowed: "the server's model name", example: "qwen3-coder"),
        Key(section: .model, name: "api_key_env", type: "string", defaultValue: "—", allowed: "name of an environment variable holding the API key (with `url`)", example: "OPENAI_API_KEY"),
        Key(section: .model, name: "timeout", type: "duration", defaultValue: "10m", allowed: "1s – 24h, per server request (with `url`)", example: "90s"),
        Key(section: .model, name: "context", type: "integer", defaultValue: "the model's, at most 32768", allowed: "256 – 1048576", example: "16384"),
        Key(section: .model, name: "threads", type: "integer", defaultValue: "0 (one per core)", allowed: "0 – 1024", example: "2"),
        Key(section: .model, name: "parallel", type: "integer", defaultValue: "4", allowed: "1 – 256", example: "8"),
        Key(section: .model, name: "memory", type: "byte size", defaultValue: "¾ of RAM or of the cgroup limit, less weights held in memory", allowed: "at least 64MiB, as `20GiB`, `512MiB`, `1.5GB` or bytes", example: "20GiB"),
        Key(section: .model, name: "weights", type: "string", defaultValue: "`mapped`", allowed: "`mapped` (pages from the file, on use), `memory` (the file read into huge-page memory at load: faster decoding; its size is held in RAM and, unless `memory` is set, taken from the default cache budget), `repacked` (as `memory`, and the Q4_K and Q6_K matrices also copied at load into a 16-row repacked layout in huge-page memory: faster prefill and decoding, same results; holds the file and the copies, less the Q4_K experts' originals, given back once copied: 1.3–1.4× the file's size on the bench files, budgeted as `memory`) or `auto` (at load, `repacked` if the CPU has its kernels and what a repacked load holds at its peak, estimated from the file's tensor records, fits in ¾ of RAM or the cgroup limit beside `memory`, or a third of that when `memory` is unset; else `memory` if one copy fits so; else `mapped`); with `path`", example: "memory"),
    ] + generationKeys + [
        Key(section: .defaults, name: "sandbox_limits", type: "mapping", defaultValue: "{}", allowed: "limits of each sandboxed command (`verify`, `run`): the keys `defaults.sandbox_limits.*` below", example: "{processes: 256, wall_clock: 10m}"),
        Key(section: .sandboxLimits, name: "processes", type: "integer", defaultValue: "512", allowed: "1 – 65536 processes and threads (RLIMIT_NPROC)", example: "256"),
        Key(section: .sandboxLimits, name: "file_size", type: "byte size", defaultValue: "1GiB", allowed: "1MiB – 16TiB per written file (RLIMIT_FSIZE)", example: "256MiB"),
        Key(section: .sandboxLimits, name: "memory", type: "byte size", defaultValue: "8GiB", allowed: "64MiB – 16TiB of address space per process (RLIMIT_AS)", example: "4GiB"),
        Key(section: .sandboxLimits, name: "cpu_time", type: "duration", defaultValue: "15m", allowed: "1s – 24h of CPU per process (RLIMIT_CPU)", example: "5m"),
        Key(section: .sandboxLimits, name: "wall_clock", type: "duration", defaultValue: "15m", allowed: "1s – 24h per command; then its process group is killed", example: "10m"),
        Key(section: .sandboxLimits, name: "tmpfs", type: "byte size", defaultValue: "512MiB", allowed: "1MiB – 1TiB, the writable `/tmp`", example: "1GiB"),
        Key(section: .sandboxLimits, name: "output", type: "byte size", defaultValue: "64KiB", allowed: "1KiB – 64MiB of output kept (start and end)", example: "256KiB"),
        Key(section: .task, name: "id", type: "string", defaultValue: "required", allowed: "unique; letters, digits, `.`, `_`, `-`; at most 128", example: "pr-review"),
        Key(section: .task, name: "kind", type: "string", defaultValue: "required", allowed: "`review`, `patch`, `tests`", example: "review"),
        Key(section: .task, name: "max_tokens … timeout", type: "—", defaultValue: "from `defaults`", allowed: "any key of `defaults.*`, for this task only", example: ""),

        Key(section: .review, name: "base", type: "revision", defaultValue: "`auto`", allowed: "a revision, or `auto` (`GITHUB_BASE_REF` / `CI_MERGE_REQUEST_DIFF_BASE_SHA`)", example: "origin/main"),
        Key(section: .review, name: "head", type: "revision", defaultValue: "`HEAD`", allowed: "a revision", example: "HEAD"),
        Key(section: .review, name: "paths", type: "list of globs", defaultValue: "`[\"**\"]`", allowed: "globs relative to the repository (`*`, `?`, `[a-z]`, `**`)", example: "[\"Sources/**\"]"),
        Key(section: .review, name: "exclude", type: "list of globs", defaultValue: "`[]`", allowed: "globs, as `paths`", example: "[\"**/*.pb.swift\"]"),
        Key(section: .review, name: "filter", type: "string", defaultValue: "`added`", allowed: "`added`, `diff_context`, `file`, `nofilter`", example: "diff_context"),
        Key(section: .review, name: "context_lines", type: "integer", defaultValue: "3", allowed: "0 – 1000", example: "5"),

        Key(section: .patch, name: "at", type: "revision", defaultValue: "`HEAD`", allowed: "a revision", example: "HEAD"),
        Key(section: .patch, name: "instruction", type: "string", defaultValue: "required", allowed: "non-empty text", example: "\"Fix the bug.\""),
        Key(section: .patch, name: "files", type: "list of paths", defaultValue: "found from the instruction", allowed: "relative paths inside the repository", example: "[Sources/A.swift]"),
        Key(section: .patch, name: "setup", type: "command", defaultValue: "—", allowed: "a shell command line, run once with network", example: "swift build"),
        Key(section: .patch, name: "verify", type: "command", defaultValue: "—", allowed: "a shell command line, run in the sandbox", example: "swift test"),
        Key(section: .patch, name: "attempts", type: "integer", defaultValue: "3", allowed: "1 – 10", example: "2"),
        Key(section: .patch, name: "sandbox_limits", type: "mapping", defaultValue: "from `defaults`", allowed: "keys of `defaults.sandbox_limits.*`, for this task's `verify`", example: "{memory: 2GiB}"),

        Key(section: .tests, name: "base", type: "revision", defaultValue: "`HEAD~1`", allowed: "a revision, or `auto`", example: "HEAD~1"),
        Key(section: .tests, name: "head", type: "revision", defaultValue: "`HEAD`", allowed: "a revision", example: "HEAD"),
        Key(section: .tests, name: "test_dir", type: "path", defaultValue: "—", allowed: "a relative folder inside the repository", example: "Tests/LexerTests"),
        Key(section: .tests, name: "setup", type: "command", defaultValue: "—", allowed: "a shell command line, run once with network", example: "swift build"),
        Key(section: .tests, name: "run", type: "command", defaultValue: "required", allowed: "a shell command line, run in the sandbox", example: "swift test"),
        Key(section: .tests, name: "repeats", type: "integer", defaultValue: "3", allowed: "1 – 100", example: "5"),
        Key(section: .tests, name: "must_fail_on_base", type: "boolean", defaultValue: "false", allowed: "`true`, `false`", example: "true"),
        Key(section: .tests, name: "sandbox_limits", type: "mapping", defaultValue: "from `defaults`", allowed: "keys of `defaults.sandbox_limits.*`, for this task's `run`", example: "{wall_clock: 5m}"),

        Key(section: .outputs, name: "dir", type: "path", defaultValue: "`sparrow-out`", allowed: "a folder", example: "out"),
        Key(section: .outputs, name: "formats", type: "list of strings", defaultValue: "`[sarif, junit]`", allowed: "`sarif`, `github`, `gitlab`, `rdjsonl`, `checkstyle`, `junit`", example: "[sarif, gitlab]"),
        Key(section: .outputs, name: "fail_on", type: "string", defaultValue: "`error`", allowed: "`error`, `warning`, `note`, `never`", example: "never"),
    ]

    /// The key names allowed directly in `section` (task sections include the common task keys and the
    /// generation keys).
    static func keyNames(in section: Section) -> [String] {
        var names: [String] = []
        if section.taskKind != nil {
            names += keys.filter { $0.section == .task && !$0.example.isEmpty }.map(\.name)
            names += generationKeys.map(\.name)
        }
        names += keys.filter { $0.section == section && !$0.example.isEmpty }.map(\.name)
        return names
    }

    /// The key table as Markdown, as the README shows it.
    public static func markdownTable() -> String {
        var lines = ["| key | type | default | allowed values |", "| --- | --- | --- | --- |"]
        for key in keys {
            var name = "`\(key.path)`"
            if let kind = key.section.taskKind { name += " (\(kind.rawValue))" }
            if key.section == .defaults, key.name != "sandbox_limits" { name += " (also per task)" }
            if key.section == .sandboxLimits { name += " (also per patch and tests task)" }
            let defaultValue = key.isRequired ? "**required**" : key.defaultValue
            lines.append("| \(name) | \(key.type) | \(defaultValue) | \(key.allowed) |")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
