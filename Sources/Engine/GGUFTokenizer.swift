public import GGUF
public import Tokenizers

/// Builds the tokenizer and chat template a GGUF file describes (`tokenizer.ggml.*`, `tokenizer.chat_template`),
/// the way llama.cpp's `llama_vocab::load` reads them.
public struct GGUFTokenizer: Sendable {
    public let tokenizer: Tokenizer
    /// The chat layout, or nil when the file has none that Sparrow recognises (raw prompts still work).
    public let chatTemplate: ChatTemplate?

    /// Reads the vocabulary of `metadata`; `path` names the file in errors.
    public init(metadata: GGUFMetadata, path: String) throws(EngineError) {
        func fail(_ reason: String) -> EngineError { .tokenizer(path: path, reason: reason) }
        do {
            let model = try metadata.string("tokenizer.ggml.model")
            guard model == "gpt2" else { throw fail(TokenizerError.unsupportedModel(model).description) }
            let preName = metadata["tokenizer.ggml.pre"]?.stringValue ?? "default"
            guard let pre = PreTokenizerKind(ggufName: preName) else {
                throw fail(TokenizerError.unsupportedPreTokenizer(preName).description)
            }
            guard case let .string(tokens) = try metadata.array("tokenizer.ggml.tokens") else {
                throw fail("tokenizer.ggml.tokens: expected an array of strings")
            }
            guard case let .string(merges) = try metadata.array("tokenizer.ggml.merges") else {
                throw fail("tokenizer.ggml.merges: expected an array of strings")
            }
            var types: [TokenType] = []
            if let typeArray = metadata["tokenizer.ggml.token_type"]?.arrayValue {
                guard case let .int32(raw) = typeArray else { throw fail("tokenizer.ggml.token_type: expected INT32 values") }
                types = try raw.enumerated().map { index, value throws(EngineError) in
                    guard let type = TokenType(rawValue: value) else {
                        throw fail("tokenizer.ggml.token_type[\(index)] = \(value) is not a known token type")
                    }
                    return type
                }
            }
            let bos = try metadata.optionalInteger("tokenizer.ggml.bos_token_id").map(TokenID.init(truncatingIfNeeded:))
            let eos = try metadata.optionalInteger("tokenizer.ggml.eos_token_id").map(TokenID.init(truncatingIfNeeded:))
            var endIDs: Set<TokenID> = []
            if let eot = try metadata.optionalInteger("tokenizer.ggml.eot_token_id") { endIDs.insert(TokenID(truncatingIfNeeded: eot)) }
            if case let .uint32(ids)? = metadata["tokenizer.ggml.eos_token_ids"]?.arrayValue {
                endIDs.formUnion(ids.map { TokenID(truncatingIfNeeded: $0) })
            } else if case let .int32(ids)? = metadata["tokenizer.ggml.eos_token_ids"]?.arrayValue {
                endIDs.formUnion(ids)
            }
            // Like llama.cpp, also stop on the end-of-turn spellings the vocabulary has as control tokens.
            for (index, text) in tokens.enumerated() where ["<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<end_of_turn>"].contains(text) {
                if types.isEmpty || types[index] == .control { endIDs.insert(TokenID(index)) }
            }
            let addsBOS = metadata["tokenizer.ggml.add_bos_token"].flatMap { value -> Bool? in
                if case let .bool(flag) = value { flag } else { nil }
            } ?? false
            let configuration = TokenizerConfiguration(
                tokens: tokens, tokenTypes: types, merges: merges, preTokenizer: pre,
                normalization: pre == .qwen2 ? .nfc : .none, bosID: bos, eosID: eos,
                endOfGenerationIDs: endIDs, addsBOS: addsBOS
            )
            let tokenizer = try Tokenizer(configuration)
            self.tokenizer = tokenizer
            chatTemplate = try? ChatTemplate(source: metadata["tokenizer.chat_template"]?.stringValue, tokenizer: tokenizer)
        } catch let error as EngineError {
            throw error
        } catch {
            throw fail("\(error)")
        }
    }
}
