/// Why generation ended.
public enum FinishReason: String, Sendable, Hashable, Codable {
    /// The model emitted its end-of-turn token, or a constrained answer closed.
    case endOfText = "stop"
    /// A stop string was reached.
    case stopString = "stop_string"
    /// `maxTokens` was reached (never for a constrained answer: it is closed in time).
    case length
}

/// Token counts of one request.
public struct TokenUsage: Sendable, Hashable, Codable {
    public var promptTokens: Int
    /// Prompt tokens whose state came from the prefix cache instead of being computed.
    public var cachedPromptTokens: Int
    public var completionTokens: Int

    public init(promptTokens: Int = 0, cachedPromptTokens: Int = 0, completionTokens: Int = 0) {
        self.promptTokens = promptTokens
        self.cachedPromptTokens = cachedPromptTokens
        self.completionTokens = completionTokens
    }

    // Journal keys are snake_case like every other journal key (and like OpenAI's `usage`); journals written before
    // this change used the Swift names, which are still read.
    enum CodingKeys: String, CodingKey {
        case promptTokens = "prompt_tokens"
        case cachedPromptTokens = "cached_prompt_tokens"
        case completionTokens = "completion_tokens"
    }

    private enum LegacyKeys: String, CodingKey {
        case promptTokens, cachedPromptTokens, completionTokens
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if container.contains(.promptTokens) || container.contains(.completionTokens) {
            promptTokens = try container.decodeIfPresent(Int.self, forKey: .promptTokens) ?? 0
            cachedPromptTokens = try container.decodeIfPresent(Int.self, forKey: .cachedPromptTokens) ?? 0
            completionTokens = try container.decodeIfPresent(Int.self, forKey: .completionTokens) ?? 0
        } else {
            let legacy = try decoder.container(keyedBy: LegacyKeys.self)
            promptTokens = try legacy.decodeIfPresent(Int.self, forKey: .promptTokens) ?? 0
            cachedPromptTokens = try legacy.decodeIfPresent(Int.self, forKey: .cachedPromptTokens) ?? 0
            completionTokens = try legacy.decodeIfPresent(Int.self, forKey: .completionTokens) ?? 0
        }
    }

    /// Adds another request's counts.
    public static func + (lhs: TokenUsage, rhs: TokenUsage) -> TokenUsage {
        TokenUsage(
            promptTokens: lhs.promptTokens + rhs.promptTokens,
            cachedPromptTokens: lhs.cachedPromptTokens + rhs.cachedPromptTokens,
            completionTokens: lhs.completionTokens + rhs.completionTokens
        )
    }
}

/// The answer to one `GenerationRequest`.
public struct GenerationResponse: Sendable, Hashable {
    /// The request's `id`.
    public var requestID: String
    /// The generated text (without the stop string or end-of-turn token).
    public var text: String
    public var finishReason: FinishReason
    public var usage: TokenUsage

    public init(requestID: String, text: String, finishReason: FinishReason, usage: TokenUsage) {
        self.requestID = requestID
        self.text = text
        self.finishReason = finishReason
        self.usage = usage
    }
}

/// Why a generation request failed.
public enum GenerationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The prompt plus `maxTokens` does not fit the model's context.
    case contextOverflow(requestID: String, promptTokens: Int, maxTokens: Int, contextLength: Int)
    /// The request is malformed (for example an unsupported schema construct).
    case invalidRequest(requestID: String, reason: String)
    /// The backend failed (engine error, server error after retries, lost connection).
    case backend(requestID: String, reason: String)
    /// The answer could not be parsed as the constraint requires.
    case constraintViolated(requestID: String, reason: String)
    /// The request was cancelled or timed out.
    case cancelled(requestID: String)

    public var description: String {
        switch self {
        case let .contextOverflow(id, prompt, maxTokens, context):
            "request \(id): \(prompt) prompt tokens + \(maxTokens) answer tokens exceed the context of \(context)"
        case let .invalidRequest(id, reason): "request \(id): invalid request: \(reason)"
        case let .backend(id, reason): "request \(id): \(reason)"
        case let .constraintViolated(id, reason): "request \(id): answer does not match its schema: \(reason)"
        case let .cancelled(id): "request \(id): cancelled"
        }
    }
}
