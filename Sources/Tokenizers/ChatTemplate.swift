import Foundation

/// One turn of a conversation, as the chat template sees it.
public struct ChatTurn: Sendable, Hashable {
    /// `system`, `user` or `assistant`.
    public var role: String
    public var content: String

    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}

/// The chat layout of a model family, recognised from GGUF `tokenizer.chat_template` (no general Jinja engine:
/// the families Sparrow runs all use ChatML).
///
/// ChatML: `<|im_start|>{role}\n{content}<|im_end|>\n` per turn and `<|im_start|>assistant\n` as the generation
/// prompt (Qwen3-Coder's template, REFERENCE.md §4.4; SmolLM2's template adds a default system turn).
public struct ChatTemplate: Sendable, Hashable {
    /// Why a template could not be used.
    public enum Failure: Error, Sendable, Hashable, CustomStringConvertible {
        case unrecognized(String)
        case missingToken(String)

        public var description: String {
            switch self {
            case let .unrecognized(excerpt): "unsupported chat template (expected ChatML with <|im_start|>): \(excerpt)"
            case let .missingToken(token): "the vocabulary has no \(token) token, which the chat template needs"
            }
        }
    }

    /// The system turn the template adds when the conversation has none (SmolLM2), or nil (Qwen3-Coder).
    public var defaultSystemPrompt: String?
    let startToken: TokenID
    let endToken: TokenID

    /// Recognises the template `source` (nil: the model has none; ChatML is assumed when its tokens exist).
    public init(source: String?, tokenizer: Tokenizer) throws(Failure) {
        if let source, !source.contains("<|im_start|>") {
            throw .unrecognized(String(source.prefix(80)))
        }
        guard let start = tokenizer.specialToken("<|im_start|>") else { throw .missingToken("<|im_start|>") }
        guard let end = tokenizer.specialToken("<|im_end|>") else { throw .missingToken("<|im_end|>") }
        startToken = start
        endToken = end
        defaultSystemPrompt = source.flatMap(Self.defaultSystemPrompt(in:))
    }

    /// The literal system text a template writes when the first message is not a system message, as in
    /// `{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nTEXT<|im_end|>\n' }}`.
    static func defaultSystemPrompt(in source: String) -> String? {
        // The template's string literal holds either an escaped `\n` or a real line break.
        guard let start = source.range(of: "'<|im_start|>system\\n") ?? source.range(of: "'<|im_start|>system\n") else {
            return nil
        }
        let rest = source[start.upperBound...]
        guard let end = rest.range(of: "<|im_end|>") else { return nil }
        let text = rest[..<end.lowerBound]
        guard !text.contains("'"), !text.contains("{{"), !text.isEmpty else { return nil }
        return String(text)
    }

    /// The prompt for `turns`, ending with the assistant's generation prompt when `addGenerationPrompt`.
    public func render(_ turns: [ChatTurn], addGenerationPrompt: Bool = true) -> [PromptSegment] {
        var segments: [PromptSegment] = []
        var all = turns
        if let defaultSystemPrompt, turns.first?.role != "system" {
            all.insert(ChatTurn(role: "system", content: defaultSystemPrompt), at: 0)
        }
        for turn in all {
            segments += [.token(startToken), .text("\(turn.role)\n\(turn.content)"), .token(endToken), .text("\n")]
        }
        if addGenerationPrompt { segments += [.token(startToken), .text("assistant\n")] }
        return segments
    }
}
