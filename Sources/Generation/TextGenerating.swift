/// Something that turns generation requests into text: the local engine, a remote OpenAI-compatible server, or a
/// scripted fake in tests.
///
/// Contract for conformers:
/// - `generate` may be called concurrently from many tasks; a conformer that batches (the local engine decodes all
///   requests in flight together) must give each caller exactly the answer it would give that request alone when
///   sampling is greedy.
/// - The answer honours `maxTokens`, `stop` and, when present, `constraint`: with a constraint the text parses as
///   the schema requires, or the call throws.
/// - Cancellation of the calling task stops that request promptly and throws `GenerationError.cancelled`.
/// - Errors are `GenerationError` values that say which request failed and why.
public protocol TextGenerating: Sendable {
    /// What is answering: model name, context size and identity (used in journal keys).
    var model: ModelDescription { get }

    /// Generates one answer.
    func generate(_ request: GenerationRequest) async throws(GenerationError) -> GenerationResponse

    /// How many tokens `prompt` takes, for cutting work to fit the context. Conformers with a tokenizer count
    /// exactly; the default estimates conservatively (`PromptSizeEstimate`).
    func countTokens(_ prompt: Prompt) async -> Int
}

extension TextGenerating {
    public func countTokens(_ prompt: Prompt) async -> Int { PromptSizeEstimate.tokens(prompt) }
}

/// A conservative token count for backends that cannot count: code averages 3–4 bytes per token with BPE
/// vocabularies; this assumes 2.5, plus a few tokens per chat turn for the template.
public enum PromptSizeEstimate {
    public static func tokens(_ prompt: Prompt) -> Int {
        switch prompt {
        case let .text(text): (text.utf8.count * 2 + 4) / 5 + 1
        case let .chat(messages): messages.reduce(3) { $0 + 6 + ($1.content.utf8.count * 2 + 4) / 5 }
        }
    }
}

/// Identity and limits of the model behind a `TextGenerating`.
public struct ModelDescription: Sendable, Hashable, Codable {
    /// A human-readable name, e.g. `Qwen3-Coder-Next-Q4_K_M` or the server's model name.
    public var name: String
    /// Tokens per sequence (prompt plus answer).
    public var contextLength: Int
    /// A stable identity for journal keys: a hash of the model file, or the server URL plus model name.
    public var identity: String

    public init(name: String, contextLength: Int, identity: String) {
        self.name = name
        self.contextLength = contextLength
        self.identity = identity
    }
}
