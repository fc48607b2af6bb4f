public import Generation
public import Jobs

/// What `sparrow run` was asked to do (the CLI's flags, plus the environment, passed in so tests control it).
public struct RunOptions: Sendable {
    public var specPath: String
    /// `--out`: overrides `outputs.dir` (relative to the current directory).
    public var outputDirectory: String?
    /// `--model PATH|URL`: overrides `model.path` / `model.url`.
    public var model: String?
    /// `--shard I/N`; nil means from the CI's variables, or the whole queue.
    public var shard: Shard?
    /// `--resume`: continue the run whose journal is in the output folder.
    public var resume: Bool
    /// `--dry-run`: print tasks, chunks and prompt sizes without loading the model.
    public var dryRun: Bool
    /// `--baseline OLD.sarif`: suppress findings whose fingerprints it has.
    public var baseline: String?
    public var environment: [String: String]
    /// The current directory, for relative `--out`, `--model` and `--baseline`.
    public var workingDirectory: String
    /// The command line, for `run-info.json`.
    public var arguments: [String]

    public init(
        specPath: String, outputDirectory: String? = nil, model: String? = nil, shard: Shard? = nil,
        resume: Bool = false, dryRun: Bool = false, baseline: String? = nil, environment: [String: String],
        workingDirectory: String, arguments: [String] = []
    ) {
        self.specPath = specPath
        self.outputDirectory = outputDirectory
        self.model = model
        self.shard = shard
        self.resume = resume
        self.dryRun = dryRun
        self.baseline = baseline
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.arguments = arguments
    }
}

/// The model to load or call, with variables expanded and paths resolved.
public struct ResolvedModel: Sendable, Hashable {
    public enum Source: Sendable, Hashable {
        /// An absolute path to a GGUF file.
        case file(String)
        /// An OpenAI-compatible server.
        case server(url: String, name: String, apiKeyVariable: String?, timeoutSeconds: Int)
    }

    public var source: Source
    public var settings: ModelSettings
}

/// Builds the generator for a model: the local engine or the remote client (injected, so tests use a fake).
public typealias GeneratorFactory = @Sendable (ResolvedModel) async throws -> any TextGenerating

