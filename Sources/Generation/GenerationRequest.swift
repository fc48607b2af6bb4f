/// One chat message of a prompt.
public struct ChatMessage: Sendable, Hashable, Codable {
    /// Who speaks. Only the chat template turns roles into control tokens.
    public enum Role: String, Sendable, Hashable, Codable {
        case system, user, assistant
    }

    public var role: Role
    /// Plain text. Control-token spellings inside it stay ordinary text.
    public var content: String

    public init(role: Role, content: String) {
        self.role = role
        self.content = content
    }
}

/// What to generate from: chat messages (rendered by the model's chat template) or raw text.
public enum Prompt: Sendable, Hashable {
    case chat([ChatMessage])
    case text(String)
}

/// Sampling settings. `temperature == 0` means greedy decoding (the default, so CI runs are reproducible).
public struct SamplingParameters: Sendable, Hashable, Codable {
    /// 0 is greedy; otherwise logits are divided by it before sampling.
    public var temperature: Double
    /// Nucleus sampling threshold in (0, 1]; 1 disables it.
    public var topP: Double
    /// Keep only the `topK` most likely tokens; 0 disables it.
    public var topK: Int
    /// Drop tokens whose probability is below `minP` × the top token's; 0 disables it.
    public var minP: Double
    /// Seed of the sampler's random stream; the same seed gives the same answer.
    public var seed: UInt64

    public init(temperature: Double = 0, topP: Double = 1, topK: Int = 0, minP: Double = 0, seed: UInt64 = 0) {
        self.temperature = temperature
        self.topP = topP
        self.topK = topK
        self.minP = minP
        self.seed = seed
    }

    /// Greedy decoding.
    public static let greedy = SamplingParameters()
}

/// A constraint on the shape of the answer.
public enum ResponseConstraint: Sendable, Hashable {
    /// The answer is one JSON document valid against `schema` (Sparrow's JSON Schema subset; see the Engine's
    /// constraint compiler for what is supported).
    case jsonSchema(name: String, schema: JSONValue)
}

/// One generation request.
public struct GenerationRequest: Sendable, Hashable {
    /// The caller's id for this request (for example `pr-review/chunk-3`); echoed in errors and responses.
    public var id: String
    public var prompt: Prompt
    /// Upper bound on generated tokens.
    public var maxTokens: Int
    public var sampling: SamplingParameters
    /// Generation ends before any of these strings; the stop string itself is not part of the answer.
    public var stop: [String]
    public var constraint: ResponseConstraint?

    public init(
        id: String,
        prompt: Prompt,
        maxTokens: Int,
        sampling: SamplingParameters = .greedy,
        stop: [String] = [],
        constraint: ResponseConstraint? = nil
    ) {
        self.id = id
        self.prompt = prompt
        self.maxTokens = maxTokens
        self.sampling = sampling
        self.stop = stop
        self.constraint = constraint
    }
}
