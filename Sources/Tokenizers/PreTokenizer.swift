/// Splits normalised text into the pieces that BPE encodes one by one ("words"). Pieces are returned as ranges of
/// `scalars`; together they cover it exactly, in order.
public protocol PreTokenizer: Sendable {
    func split(_ scalars: [Unicode.Scalar]) -> [Range<Int>]
}

/// The pre-tokenizers Sparrow knows, by the name in GGUF `tokenizer.ggml.pre`.
public enum PreTokenizerKind: String, Sendable, Hashable, CaseIterable {
    /// Qwen2, Qwen2.5, Qwen3, Qwen3-Coder, Qwen3-Next.
    case qwen2
    /// SmolLM, StarCoder and friends: digits one by one, then GPT-2's pattern.
    case smollm
    /// GPT-2's pattern alone.
    case gpt2

    /// The pre-tokenizer for a GGUF name; llama.cpp's aliases of the same patterns are accepted.
    public init?(ggufName: String) {
        switch ggufName {
        case "qwen2", "deepseek-r1-qwen": self = .qwen2
        case "smollm", "starcoder", "refact", "codeshell": self = .smollm
        case "gpt-2", "gpt2", "default": self = .gpt2
        default: return nil
        }
    }

    public var preTokenizer: any PreTokenizer {
        switch self {
        case .qwen2: Qwen2PreTokenizer()
        case .smollm: DigitSplittingPreTokenizer(inner: GPT2PreTokenizer())
        case .gpt2: GPT2PreTokenizer()
        }
    }
}

/// Shared scanning helpers.
extension PreTokenizer {
    /// The end of the run of scalars of class `kind` starting at `start`.
    @inline(__always)
    func runEnd(_ classes: [ScalarClass], from start: Int, end: Int, while test: (ScalarClass) -> Bool) -> Int {
        var index = start
        while index < end, test(classes[index]) { index += 1 }
        return index
    }
}
