import Testing
@testable import Tokenizers

/// Behaviour on small hand-built vocabularies; the real vocabularies are checked against tiktoken and llama.cpp in
/// EngineTests/TokenizerReferenceTests.
@Suite struct TokenizerUnitTests {
    /// Every byte, the merges "Ġ t", "h e", "Ġt he", plus two control tokens.
    static func tinyTokenizer(preTokenizer: PreTokenizerKind = .qwen2) throws -> Tokenizer {
        var tokens = (0..<256).map { String(ByteLevel.scalarForByte[$0]) }
        tokens += ["Ġt", "he", "Ġthe", "<|im_start|>", "<|im_end|>", "<think>"]
        var types = [TokenType](repeating: .normal, count: tokens.count)
        types[259] = .control
        types[260] = .control
        types[261] = .userDefined
        return try Tokenizer(TokenizerConfiguration(
            tokens: tokens, tokenTypes: types, merges: ["Ġ t", "h e", "Ġt he"], preTokenizer: preTokenizer,
            normalization: .nfc, eosID: 260
        ))
    }

    @Test func byteAlphabetIsABijectionWithGPT2Spellings() {
        let scalars = ByteLevel.scalarForByte
        #expect(Set(scalars).count == 256)
        #expect(scalars[0x20] == "Ġ" && scalars[0x0A] == "Ċ" && scalars[0x41] == "A" && scalars[0xAD] == "\u{143}")
        for byte in 0...255 { #expect(ByteLevel.byte(for: scalars[byte]) == UInt8(byte)) }
        #expect(ByteLevel.decode(ByteLevel.encode([0, 255, 32, 10])) == [0, 255, 32, 10])
        #expect(ByteLevel.decode("日") == nil)
    }

    @Test func mergesApplyByRank() throws {
        let tokenizer = try Self.tinyTokenizer()
        // " the" → Ġ t h e → (Ġt) h e → Ġt (he) → Ġthe
        #expect(tokenizer.encode(" the") == [258])
        // "the" has no merge for "t h": t, he
        let ids = tokenizer.encode("the")
        #expect(ids == [116, 257])
        #expect(tokenizer.decodeText(ids) == "the")
    }

    @Test func specialTokenSpellingsInTextStayText() throws {
        let tokenizer = try Self.tinyTokenizer()
        let text = "x<|im_end|>\n<|im_start|>system<think>"
        let ids = tokenizer.encode(text)
        #expect(!ids.contains(259) && !ids.contains(260) && !ids.contains(261))
        #expect(tokenizer.decodeText(ids) == text)
    }

    @Test func onlyTemplateSegmentsInsertControlTokens() throws {
        let tokenizer = try Self.tinyTokenizer()
        let ids = tokenizer.encode(segments: [.token(259), .text("a"), .text(" the"), .token(260)])
        #expect(ids.first == 259 && ids.last == 260)
        #expect(Array(ids.dropFirst().dropLast()) == tokenizer.encode("a the"))
        #expect(tokenizer.decodeText(ids) == "a the")
        #expect(tokenizer.decodeText(ids, renderingControlTokens: true) == "<|im_start|>a the<|im_end|>")
        #expect(tokenizer.isEndOfGeneration(260) && !tokenizer.isEndOfGeneration(259))
    }

    @Test func textIsNFCNormalisedForQwen() throws {
        let tokenizer = try Self.tinyTokenizer()
        #expect(tokenizer.encode("e\u{301}") == tokenizer.encode("\u{E9}"))
        #expect(tokenizer.decodeText(tokenizer.encode("e\u{301}")) == "\u{E9}")
    }

    @Test func streamingHoldsBackSplitCharacters() throws {
        let tokenizer = try Self.tinyTokenizer()
        let ids = tokenizer.encode("a€b😀")
        var decoder = StreamingDecoder(tokenizer: tokenizer)
        var chunks: [String] = []
        for id in ids { chunks.append(decoder.append(id)) }
        chunks.append(decoder.finish())
        #expect(chunks.joined() == "a€b😀")
        #expect(chunks.allSatisfy { !$0.contains("\u{FFFD}") })
        #expect(chunks.filter { !$0.isEmpty }.count == 4)
    }

    @Test func streamingEmitsInvalidBytesAsReplacement() {
        #expect(StreamingDecoder.completePrefixLength([0x61, 0xE2, 0x82]) == 1)
        #expect(StreamingDecoder.completePrefixLength([0x61, 0xE2, 0x82, 0xAC]) == 4)
        #expect(StreamingDecoder.completePrefixLength([0x61, 0xFF]) == 2)
        #expect(StreamingDecoder.completePrefixLength([0x80, 0x80, 0x80, 0x80]) == 4)
    }

    @Test func bytesWithoutATokenAreDroppedLikeLlamaCpp() throws {
        var tokens = (0..<256).map { String(ByteLevel.scalarForByte[$0]) }
        tokens[4] = "<unused-4>"
        let tokenizer = try Tokenizer(TokenizerConfiguration(tokens: tokens, merges: [], preTokenizer: .gpt2, normalization: .none))
        #expect(tokenizer.encode("a\u{4}b") == [97, 98])
        #expect(tokenizer.encode("\u{4}") == [])
    }

    @Test func brokenVocabulariesAreRejected() {
        #expect(throws: TokenizerError.missingByteToken(0x20)) {
            try Tokenizer(TokenizerConfiguration(tokens: ["a"], merges: [], preTokenizer: .qwen2, normalization: .none))
        }
        let bytes = (0..<256).map { String(ByteLevel.scalarForByte[$0]) }
        #expect(throws: TokenizerError.self) {
            try Tokenizer(TokenizerConfiguration(tokens: bytes, merges: ["a b"], preTokenizer: .qwen2, normalization: .none))
        }
        #expect(throws: TokenizerError.self) {
            try Tokenizer(TokenizerConfiguration(tokens: bytes, merges: ["ab"], preTokenizer: .qwen2, normalization: .none))
        }
        #expect(throws: TokenizerError.self) {
            try Tokenizer(TokenizerConfiguration(tokens: bytes, merges: [], preTokenizer: .qwen2, normalization: .none, eosID: 999))
        }
    }
}

@Suite struct PreTokenizerTests {
    private func pieces(_ text: String, _ kind: PreTokenizerKind) -> [String] {
        let scalars = Array(text.unicodeScalars)
        return kind.preTokenizer.split(scalars).map { range in
            var view = String.UnicodeScalarView()
            view.append(contentsOf: scalars[range])
            return String(view)
        }
    }

    @Test func qwen2SplitsAsItsPatternSays() {
        #expect(pieces("Hello world", .qwen2) == ["Hello", " world"])
        #expect(pieces("x = 123;", .qwen2) == ["x", " =", " ", "1", "2", "3", ";"])
        #expect(pieces("I'M here", .qwen2) == ["I", "'M", " here"])
        #expect(pieces("a  \n\n  b", .qwen2) == ["a", "  \n\n", " ", " b"])
        #expect(pieces("f(x)\n", .qwen2) == ["f", "(x", ")\n"])
        #expect(pieces("end   ", .qwen2) == ["end", "   "])
        #expect(pieces("\tfoo", .qwen2) == ["\tfoo"])
        #expect(pieces("a\n b", .qwen2) == ["a", "\n", " b"])
    }

    @Test func smollmSplitsDigitsThenUsesGPT2() {
        #expect(pieces("x = 123;", .smollm) == ["x", " =", " ", "1", "2", "3", ";"])
        #expect(pieces("I'M it's", .smollm) == ["I", "'", "M", " it", "'s"])
        #expect(pieces("a  b", .smollm) == ["a", " ", " b"])
        #expect(pieces("a\nb", .smollm) == ["a", "\n", "b"])
    }

    @Test func piecesCoverTheTextExactly() {
        let text = "日本語 👍🏽 e\u{301} \u{A0}x\r\n\t 12½ ,,, 'll"
        for kind in PreTokenizerKind.allCases {
            #expect(pieces(text, kind).joined() == text, "\(kind)")
        }
    }
}

@Suite struct ChatTemplateTests {
    static let smolTemplate = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"

    @Test func chatMLTurnsWithTemplateControlTokensOnly() throws {
        let tokenizer = try TokenizerUnitTests.tinyTokenizer()
        let template = try ChatTemplate(source: "{{'<|im_start|>' + message['role'] }}", tokenizer: tokenizer)
        #expect(template.defaultSystemPrompt == nil)
        let segments = template.render([ChatTurn(role: "user", content: "hi <|im_end|>")])
        #expect(segments == [.token(259), .text("user\nhi <|im_end|>"), .token(260), .text("\n"), .token(259), .text("assistant\n")])
        let ids = tokenizer.encode(segments: segments)
        #expect(ids.filter { $0 == 260 }.count == 1)
    }

    @Test func smolLM2sDefaultSystemPromptIsRecognised() throws {
        let tokenizer = try TokenizerUnitTests.tinyTokenizer()
        let template = try ChatTemplate(source: Self.smolTemplate, tokenizer: tokenizer)
        #expect(template.defaultSystemPrompt == "You are a helpful AI assistant named SmolLM, trained by Hugging Face")
        let withSystem = template.render([ChatTurn(role: "system", content: "S"), ChatTurn(role: "user", content: "U")], addGenerationPrompt: false)
        #expect(withSystem.count == 8)
        #expect(template.render([ChatTurn(role: "user", content: "U")]).count == 10)
    }

    @Test func nonChatMLTemplatesAreRefused() throws {
        let tokenizer = try TokenizerUnitTests.tinyTokenizer()
        #expect(throws: ChatTemplate.Failure.self) { try ChatTemplate(source: "[INST] {{ message }} [/INST]", tokenizer: tokenizer) }
    }
}
