public import Tokenizers

/// A loaded model's forward pass: the contract between the architectures (`Engine/Models/`, one file each) and
/// the serving layer (`LocalEngine`: batching, sampling, constraints).
///
/// Contract for conformers:
/// - `forward` runs one step for several sequences at once; each item appends its tokens (a prefill chunk, or one
///   token when decoding) to its own state and gets logits back.
/// - **Batch invariance** (DESIGN.md §6): an item's logits are bit-identical whatever the other items of the call,
///   the batch size and the thread count — every reduction in a fixed order.
/// - Model data problems are `EngineError`s, never crashes.
public protocol LanguageModel: Sendable {
    /// Hyper-parameters the serving layer needs.
    var properties: LanguageModelProperties { get }

    /// A fresh, empty state for one sequence that can hold up to `capacity` tokens.
    func makeState(capacity: Int) throws(EngineError) -> any SequenceState

    /// Appends each item's tokens to its state and returns, per item, the logits (`properties.vocabularySize`
    /// floats) of its last token — or of every appended token when `allPositions` (row-major, token by token).
    func forward(_ items: [ForwardItem], allPositions: Bool) throws(EngineError) -> [[Float]]
}

/// What the serving layer needs to know about a model.
public struct LanguageModelProperties: Sendable, Hashable {
    /// `general.architecture` (`llama`, `qwen3`, `qwen3moe`, `qwen3next`).
    public var architecture: String
    /// `general.name`, or the file name.
    public var name: String
    /// Rows of the output matrix (may exceed the tokenizer's vocabulary: padding rows).
    public var vocabularySize: Int
    /// The context length the model was trained for (`<arch>.context_length`).
    public var trainedContextLength: Int
    /// Bytes of per-sequence cache one token takes (KV entries of every attention layer), for memory admission.
    public var cacheBytesPerToken: Int
    /// Bytes of per-sequence state that does not grow with length (recurrent state of linear-attention layers).
    public var fixedStateBytes: Int

    public init(
        architecture: String, name: String, vocabularySize: Int, trainedContextLength: Int, cacheBytesPerToken: Int,
        fixedStateBytes: Int = 0
    ) {
        self.architecture = architecture
        self.name = name
        self.vocabularySize = vocabularySize
        self.trainedContextLength = trainedContextLength
        self.cacheBytesPerToken = cacheBytesPerToken
        self.fixedStateBytes = fixedStateBytes
    }
}

/// One sequence's cached state (KV cache of attention layers, recurrent state of linear layers). Owned by one
/// request at a time; the model mutates it inside `forward`.
public protocol SequenceState: AnyObject, Sendable {
    /// Tokens held (the position the next token gets).
    var length: Int { get }
    /// Tokens it can hold.
    var capacity: Int { get }
    /// Forgets everything after the first `length` tokens (for reusing a shared prefix). Models whose state cannot
    /// be rewound (recurrent layers) throw unless `length` is a snapshot point they kept.
    func truncate(to length: Int) throws(EngineError)
}

/// One sequence's part of a forward call.
public struct ForwardItem: @unchecked Sendable {
    public var state: any SequenceState
    /// Tokens to append, at positions `state.length ..< state.length + tokens.count`.
    public var tokens: [TokenID]

    public init(state: any SequenceState, tokens: [TokenID]) {
        self.state = state
        self.tokens = tokens
    }

    /// The checks every model's `forward` makes of item `index` once it knows the state is its own: the state
    /// appears once per call (`seen` collects them), the tokens fit its capacity, every id is in the vocabulary.
    func check(index: Int, seen: inout Set<ObjectIdentifier>, vocabulary: Int) throws(EngineError) {
        guard seen.insert(ObjectIdentifier(state)).inserted else {
            throw .invalidInput("forward: item \(index): expected each sequence state at most once per call")
        }
        guard state.length + tokens.count <= state.capacity else {
            throw .invalidInput("forward: item \(index): \(state.length) + \(tokens.count) tokens exceed the "
                                + "state's capacity of \(state.capacity)")
        }
        for token in tokens where token < 0 || Int(token) >= vocabulary {
            throw .invalidInput("forward: item \(index): token id \(token) is outside the vocabulary 0..<\(vocabulary)")
        }
    }
}
