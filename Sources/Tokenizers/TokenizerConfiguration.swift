/// How a vocabulary entry is used (GGUF `tokenizer.ggml.token_type`, llama.cpp's `llama_token_attr` numbering).
public enum TokenType: Int32, Sendable, Hashable {
    case normal = 1
    case unknown = 2
    /// Control tokens (`<|im_start|>`, `<|endoftext|>`): only the chat template inserts them; they decode to "".
    case control = 3
    /// Added tokens written as plain text (`<tool_call>`, `<think>`); they decode to their text.
    case userDefined = 4
    case unused = 5
    case byte = 6
}

/// Text normalisation applied before pre-tokenization.
public enum Normalization: Sendable, Hashable {
    /// None (SmolLM2).
    case none
    /// Unicode canonical composition (Qwen's tokenizer).
    case nfc
}

/// Everything a byte-level BPE tokenizer is built from, as plain values (the engine fills it from GGUF metadata).
public struct TokenizerConfiguration: Sendable, Hashable {
    /// Token spellings indexed by id; BPE tokens in the byte-level alphabet, added tokens as plain text.
    public var tokens: [String]
    /// One type per token; empty means every token is `.normal`.
    public var tokenTypes: [TokenType]
    /// Merge rules `"A B"` in priority order.
    public var merges: [String]
    public var preTokenizer: PreTokenizerKind
    public var normalization: Normalization
    public var bosID: TokenID?
    public var eosID: TokenID?
    /// Tokens that end an answer (EOS, end-of-turn); `eosID` is added to them.
    public var endOfGenerationIDs: Set<TokenID>
    /// Whether a prompt starts with BOS.
    public var addsBOS: Bool

    public init(
        tokens: [String], tokenTypes: [TokenType] = [], merges: [String], preTokenizer: PreTokenizerKind,
        normalization: Normalization, bosID: TokenID? = nil, eosID: TokenID? = nil,
        endOfGenerationIDs: Set<TokenID> = [], addsBOS: Bool = false
    ) {
        self.tokens = tokens
        self.tokenTypes = tokenTypes
        self.merges = merges
        self.preTokenizer = preTokenizer
        self.normalization = normalization
        self.bosID = bosID
        self.eosID = eosID
        self.endOfGenerationIDs = endOfGenerationIDs
        self.addsBOS = addsBOS
    }
}
