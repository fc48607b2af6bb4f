import Foundation
public import Generation
public import Tokenizers

/// The local inference engine as a `TextGenerating`: one model in memory, every request in flight decoded
/// together (continuous batching), greedy by default, constrained answers when a compiler is given.
public final class LocalEngine: TextGenerating, @unchecked Sendable {
    public let model: ModelDescription
    public let languageModel: any LanguageModel
    public let tokenizer: Tokenizer
    public let chatTemplate: ChatTemplate?
    private let scheduler: BatchScheduler
    private let constraintCompiler: ConstraintCompiler?

    /// Serving settings.
    public struct Settings: Sendable {
        /// Tokens per sequence (prompt + answer); capped at the model's trained context.
        public var contextLength: Int?
        /// Sequences decoded together.
        public var parallel: Int
        /// Bytes of sequence caches and prefix cache held at once; nil: `defaultMemoryBudget()` (three quarters of
        /// the memory this process may use). A request waits until its cache fits beside the running ones; the
        /// prefix cache gives way (evicts) first.
        public var memoryBudget: Int?
        /// Prompt tokens per sequence per forward step (chunk boundaries at its multiples). A model with recurrent
        /// state (qwen3next) resumes a cached prefix only where a chunk boundary is also a 32-token page end (every
        /// 256 tokens with the default, every lcm(prefillChunk, 32) otherwise) and at the end of a chat prompt's
        /// leading system messages, where its prefill also ends a chunk.
        public var prefillChunk: Int
        /// Bytes of computed prompt blocks kept for requests that start with the same tokens (the prefix cache);
        /// nil: a quarter of the memory budget; 0: no prefix cache. Outputs are bit-identical either way.
        public var prefixCacheBytes: Int?

        public init(contextLength: Int? = nil, parallel: Int = 4, memoryBudget: Int? = nil, prefillChunk: Int = 256,
                    prefixCacheBytes: Int? = nil)
        {
            self.contextLength = contextLength
            self.parallel = parallel
            self.memoryBudget = memoryBudget
            self.prefillChunk = prefillChunk
            self.prefixCacheBytes = prefixCacheBytes
        }
    }

    /// The cache budget when none is given: three quarters of the memory this process may use (RAM, or the
    /// container's cgroup limit when lower: `ResidentMemory.limitBytes`), less `heldWeights` (the bytes of weights
    /// read into memory, `model.weights: memory`), and never below 64 MiB.
    public static func defaultMemoryBudget(heldWeights: Int = 0) -> Int {
        max(64 << 20, Int(Double(ResidentMemory.limitBytes()) * 0.75) - heldWeights)
    }

    /// What the scheduler holds against the memory budget now, and its peaks (for tests and reports).
    var memoryReport: BatchScheduler.MemoryReport { scheduler.memoryReport }

    public init(
        languageModel: any LanguageModel, tokenizer: Tokenizer, chatTemplate: ChatTemplate?, identity: String,
        settings: Settings = Settings(), constraintCompiler: ConstraintCompiler? = nil
    ) {
        let properties = languageModel.properties
        let trained = properties.trainedContextLength > 0 ? properties.trainedContextLength : 32_768
        let context = min(settings.contextLength ?? min(trained, 32_768), trained)
        model = ModelDescription(name: properties.name, contextLength: context, identity: identity)
        self.languageModel = languageModel
        self.tokenizer = tokenizer
        self.chatTemplate = chatTemplate
        self.constraintCompiler = constraintCompiler
        var limits = BatchScheduler.Limits()
        limits.maxSequences = max(1, settings.parallel)
        limits.prefillChunk = max(16, settings.prefillChunk)
        limits.maxBatchTokens = max(limits.prefillChunk, 2 * limits.prefillChunk)
        limits.memoryBudget = settings.memoryBudget ?? Self.defaultMemoryBudget()
        limits.prefixCacheBytes = settings.prefixCacheBytes ?? limits.memoryBudget / 4
        scheduler = BatchScheduler(model: languageModel, tokenizer: tokenizer, limits: limits)
    }

    /// The prompt's tokens: chat messages through the model's chat template (the only place control tokens are
    /// inserted), raw text as plain text after BOS when the model wants it.
    public func tokens(for prompt: Prompt) throws(GenerationError) -> [TokenID] {
        switch prompt {
        case let .text(text):
            var ids: [TokenID] = []
            if tokenizer.configuration.addsBOS, let bos = tokenizer.configuration.bosID { ids.append(bos) }
            return ids + tokenizer.encode(text)
        case let .chat(messages):
            guard let chatTemplate else {
                throw .invalidRequest(requestID: "", reason: "the model has no chat template Sparrow recognises; use a text prompt")
            }
            return tokenizer.encode(segments: chatTemplate.render(messages.map { ChatTurn(role: $0.role.rawValue, content: $0.content) }))
        }
    }

    /// Where the stable prefix of a chat prompt ends in `tokens` (its tokens): after its leading system messages,
    /// which the runner keeps the same for every request of a run (DESIGN.md §6); 0 for raw text, for a prompt with
    /// no system message or nothing after them, and where the system part's tokens are not a prefix of `tokens`.
    func stablePrefixLength(of prompt: Prompt, tokens: [TokenID]) -> Int {
        guard case let .chat(messages) = prompt, let chatTemplate else { return 0 }
        let leading = messages.prefix { $0.role == .system }
        guard !leading.isEmpty, leading.count < messages.count else { return 0 }
        let turns = leading.map { ChatTurn(role: $0.role.rawValue, content: $0.content) }
        let prefix = tokenizer.encode(segments: chatTemplate.render(turns, addGenerationPrompt: false))
        guard prefix.count < tokens.count, tokens.starts(with: prefix) else { return 0 }
        return prefix.count
    }

    public func countTokens(_ prompt: Prompt) async -> Int {
        (try? tokens(for: prompt).count) ?? PromptSizeEstimate.tokens(prompt)
    }

    public func generate(_ request: GenerationRequest) async throws(GenerationError) -> GenerationResponse {
        let prompt: [TokenID]
        do {
            prompt = try tokens(for: request.prompt)
        } catch {
            throw .invalidRequest(requestID: request.id, reason: "\(error)")
        }
        guard request.maxTokens >= 1 else { throw .invalidRequest(requestID: request.id, reason: "max_tokens must be at least 1") }
        guard !prompt.isEmpty else { throw .invalidRequest(requestID: request.id, reason: "the prompt is empty") }
        guard prompt.count + request.maxTokens <= model.contextLength else {
            throw .contextOverflow(requestID: request.id, promptTokens: prompt.count, maxTokens: request.maxTokens, contextLength: model.contextLength)
        }
        var constraint: (any TokenConstraintSession)?
        if let requested = request.constraint, let compiler = constraintCompiler {
            constraint = try compiler(requested, tokenizer)
        }
        let properties = languageModel.properties
        let reserved = (prompt.count + request.maxTokens) * properties.cacheBytesPerToken + properties.fixedStateBytes
        let box = ResultBox()
        let job = BatchScheduler.Job(
            request: request, prompt: prompt, reservedBytes: reserved,
            stablePrefix: stablePrefixLength(of: request.prompt, tokens: prompt), tokenizer: tokenizer,
            constraint: constraint,
            finish: { box.fulfil($0) }
        )
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                box.attach(continuation)
                scheduler.submit(job)
            }
        } onCancel: {
            scheduler.cancel(job)
        }
        return try result.get()
    }
}

/// Bridges the scheduler thread's callback to the awaiting caller, whichever comes first.
private final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var result: Result<GenerationResponse, GenerationError>?
    private var continuation: CheckedContinuation<Result<GenerationResponse, GenerationError>, Never>?

    func attach(_ continuation: CheckedContinuation<Result<GenerationResponse, GenerationError>, Never>) {
        lock.lock()
        if let result {
            lock.unlock()
            continuation.resume(returning: result)
            return
        }
        self.continuation = continuation
        lock.unlock()
    }

    func fulfil(_ result: Result<GenerationResponse, GenerationError>) {
        lock.lock()
        if let continuation {
            self.continuation = nil
            lock.unlock()
            continuation.resume(returning: result)
            return
        }
        self.result = result
        lock.unlock()
    }
}
