/// Why a tokenizer could not be built from a vocabulary.
public enum TokenizerError: Error, Sendable, Hashable, CustomStringConvertible {
    /// `tokenizer.ggml.model` names a kind Sparrow does not implement (only byte-level BPE, `gpt2`).
    case unsupportedModel(String)
    /// `tokenizer.ggml.pre` names a pre-tokenizer Sparrow does not implement.
    case unsupportedPreTokenizer(String)
    /// The vocabulary lacks the token for a byte (every byte-level BPE vocabulary has all 256).
    case missingByteToken(UInt8)
    /// A merge line is not two known tokens, or merges into an unknown token.
    case invalidMerge(index: Int, text: String, reason: String)
    /// Arrays of the vocabulary disagree in length, or an id is out of range.
    case inconsistent(String)

    public var description: String {
        switch self {
        case let .unsupportedModel(name): "tokenizer model '\(name)' is not supported (expected 'gpt2', byte-level BPE)"
        case let .unsupportedPreTokenizer(name):
            "pre-tokenizer '\(name)' is not supported (expected one of \(PreTokenizerKind.allCases.map(\.rawValue).joined(separator: ", ")))"
        case let .missingByteToken(byte): "the vocabulary has no token for byte 0x\(String(byte, radix: 16, uppercase: true))"
        case let .invalidMerge(index, text, reason): "merge \(index) '\(text)': \(reason)"
        case let .inconsistent(reason): "inconsistent vocabulary: \(reason)"
        }
    }
}
