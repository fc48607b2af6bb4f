import Foundation

/// A piece of a prompt: text (tokenized as plain text) or a token inserted by id (control tokens of a template).
public enum PromptSegment: Sendable, Hashable {
    case text(String)
    case token(TokenID)
}

/// A byte-level BPE tokenizer. Immutable and `Sendable`: one instance serves every task.
///
/// **Security:** `encode(_:)` never produces control or added tokens: text from a repository, a diff or an
/// instruction that spells `<|im_end|>` becomes ordinary tokens. Only `encode(segments:)`, fed by a chat template,
/// inserts control tokens, and only where the template put them.
public struct Tokenizer: Sendable {
    public let configuration: TokenizerConfiguration
    private let encoder: BytePairEncoder
    private let preTokenizer: any PreTokenizer
    /// Token id by spelling, for added and control tokens.
    private let specialIDs: [String: TokenID]
    /// Decoded bytes of every token (control tokens: empty).
    private let pieces: [[UInt8]]
    /// Text of control tokens, for decoding with `renderingControlTokens`.
    private let controlText: [TokenID: [UInt8]]

    public init(_ configuration: TokenizerConfiguration) throws(TokenizerError) {
        self.configuration = configuration
        let tokens = configuration.tokens
        let types = configuration.tokenTypes
        guard types.isEmpty || types.count == tokens.count else {
            throw .inconsistent("\(tokens.count) tokens but \(types.count) token types")
        }
        for id in [configuration.bosID, configuration.eosID].compactMap({ $0 }) + configuration.endOfGenerationIDs
            where id < 0 || Int(id) >= tokens.count {
            throw .inconsistent("token id \(id) is outside the vocabulary of \(tokens.count)")
        }
        var idsByText: [String: TokenID] = [:]
        idsByText.reserveCapacity(tokens.count)
        var specialIDs: [String: TokenID] = [:]
        var pieces: [[UInt8]] = []
        pieces.reserveCapacity(tokens.count)
        var controlText: [TokenID: [UInt8]] = [:]
        for (index, text) in tokens.enumerated() {
            let id = TokenID(index)
            let type = types.isEmpty ? .normal : types[index]
            switch type {
            case .control, .userDefined, .unknown, .unused:
                specialIDs[text] = id
                if type == .userDefined {
                    pieces.append(Array(text.utf8))
                } else {
                    pieces.append([])
                    controlText[id] = Array(text.utf8)
                }
            case .normal, .byte:
                if idsByText[text] == nil { idsByText[text] = id }
                pieces.append(ByteLevel.decode(text) ?? Array(text.utf8))
            }
        }
        // Some vocabularies lack tokens for bytes that never occur in their training text (SmolLM2 has none for
        // 0x04, 0xC0, 0xF5…0xFF, …). Like llama.cpp, such bytes are dropped from the encoding; a vocabulary
        // missing printable ASCII is broken.
        var byteTokens: [TokenID] = []
        for byte in 0...255 {
            let id = idsByText[String(ByteLevel.scalarForByte[byte])]
            if id == nil, (0x20...0x7E).contains(byte) { throw .missingByteToken(UInt8(byte)) }
            byteTokens.append(id ?? BytePairEncoder.noToken)
        }
        var merges: [UInt64: BytePairEncoder.Merge] = [:]
        merges.reserveCapacity(configuration.merges.count)
        for (rank, line) in configuration.merges.enumerated() {
            let parts = line.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2 else {
                throw .invalidMerge(index: rank, text: line, reason: "expected two tokens separated by one space")
            }
            guard let left = idsByText[String(parts[0])], let right = idsByText[String(parts[1])] else {
                throw .invalidMerge(index: rank, text: line, reason: "a side is not a token of the vocabulary")
            }
            guard let result = idsByText[String(parts[0]) + String(parts[1])] else {
                throw .invalidMerge(index: rank, text: line, reason: "the merged token is not in the vocabulary")
            }
            let key = BytePairEncoder.key(left, right)
            if merges[key] == nil { merges[key] = BytePairEncoder.Merge(rank: Int32(rank), result: result) }
        }
        encoder = BytePairEncoder(byteTokens: byteTokens, merges: merges)
        preTokenizer = configuration.preTokenizer.preTokenizer
        self.specialIDs = specialIDs
        self.pieces = pieces
        self.controlText = controlText
    }

    /// Number of token ids.
    public var vocabularySize: Int { pieces.count }

    /// The id of an added or control token spelled `text` (`<|im_start|>`), for chat templates.
    public func specialToken(_ text: String) -> TokenID? { specialIDs[text] }

    /// True for tokens that end an answer (EOS and end-of-turn tokens).
    public func isEndOfGeneration(_ id: TokenID) -> Bool {
        id == configuration.eosID || configuration.endOfGenerationIDs.contains(id)
    }

    // MARK: Encoding

    /// Tokenizes plain text with special tokens disabled (no BOS is added).
    public func encode(_ text: String) -> [TokenID] {
        var output: [TokenID] = []
        var cache: [[UInt8]: Range<Int>] = [:]
        var cacheStorage: [TokenID] = []
        encode(text, into: &output, cache: &cache, storage: &cacheStorage)
        return output
    }

    /// Tokenizes a template's segments: text as plain text, tokens as given. Adjacent text segments are joined
    /// first, so the split between them does not change the tokens. Adds BOS when the model asks for it.
    public func encode(segments: [PromptSegment]) -> [TokenID] {
        var output: [TokenID] = []
        if configuration.addsBOS, let bos = configuration.bosID { output.append(bos) }
        var cache: [[UInt8]: Range<Int>] = [:]
        var cacheStorage: [TokenID] = []
        var pending = ""
        for segment in segments {
            switch segment {
            case let .text(text):
                pending += text
            case let .token(id):
                encode(pending, into: &output, cache: &cache, storage: &cacheStorage)
                pending = ""
                output.append(id)
            }
        }
        encode(pending, into: &output, cache: &cache, storage: &cacheStorage)
        return output
    }

    private func encode(_ text: String, into output: inout [TokenID], cache: inout [[UInt8]: Range<Int>], storage: inout [TokenID]) {
        guard !text.isEmpty else { return }
        let normalized = normalize(text)
        let scalars = Array(normalized.unicodeScalars)
        var word: [UInt8] = []
        word.reserveCapacity(64)
        for piece in preTokenizer.split(scalars) {
            word.removeAll(keepingCapacity: true)
            for index in piece { Self.appendUTF8(scalars[index], to: &word) }
            if let cached = cache[word] {
                output.append(contentsOf: storage[cached])
                continue
            }
            let start = output.count
            word.withUnsafeBufferPointer { encoder.encode($0, into: &output) }
            if word.count <= 64, cache.count < 100_000 {
                let stored = storage.count..<(storage.count + output.count - start)
                storage.append(contentsOf: output[start...])
                cache[word] = stored
            }
        }
    }

    private func normalize(_ text: String) -> String {
        guard configuration.normalization == .nfc else { return text }
        // Text below U+0300 is already in NFC (no scalar there has a decomposition or combines).
        if text.unicodeScalars.allSatisfy({ $0.value < 0x300 }) { return text }
        return text.precomposedStringWithCanonicalMapping
    }

    @inline(__always)
    private static func appendUTF8(_ scalar: Unicode.Scalar, to bytes: inout [UInt8]) {
        let value = scalar.value
        switch value {
        case 0..<0x80:
            bytes.append(UInt8(value))
        case 0x80..<0x800:
            bytes.append(UInt8(0xC0 | (value >> 6)))
            bytes.append(UInt8(0x80 | (value & 0x3F)))
        case 0x800..<0x10000:
            bytes.append(UInt8(0xE0 | (value >> 12)))
            bytes.append(UInt8(0x80 | ((value >> 6) & 0x3F)))
            bytes.append(UInt8(0x80 | (value & 0x3F)))
        default:
            bytes.append(UInt8(0xF0 | (value >> 18)))
            bytes.append(UInt8(0x80 | ((value >> 12) & 0x3F)))
            bytes.append(UInt8(0x80 | ((value >> 6) & 0x3F)))
            bytes.append(UInt8(0x80 | (value & 0x3F)))
        }
    }

    // MARK: Decoding

    /// The bytes of `id`: BPE tokens their bytes, added tokens their text, control tokens nothing (or their text
    /// when `renderingControlTokens`). Ids outside the vocabulary decode to nothing.
    public func bytes(of id: TokenID, renderingControlTokens: Bool = false) -> [UInt8] {
        guard id >= 0, Int(id) < pieces.count else { return [] }
        if renderingControlTokens, let text = controlText[id] { return text }
        return pieces[Int(id)]
    }

    /// The bytes of a token sequence.
    public func decode(_ ids: [TokenID], renderingControlTokens: Bool = false) -> [UInt8] {
        var bytes: [UInt8] = []
        for id in ids { bytes += self.bytes(of: id, renderingControlTokens: renderingControlTokens) }
        return bytes
    }

    /// A sequence decoded as text; invalid UTF-8 becomes U+FFFD.
    public func decodeText(_ ids: [TokenID], renderingControlTokens: Bool = false) -> String {
        String(decoding: decode(ids, renderingControlTokens: renderingControlTokens), as: UTF8.self)
    }
}
