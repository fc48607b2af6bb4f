internal import Foundation
import Generation

/// The parts of an OpenAI-compatible answer Sparrow reads: a whole `chat.completion` / `text_completion` object,
/// or one `chunk` of a streamed one. Unknown fields are ignored (vLLM, SGLang and llama.cpp add their own).
struct WirePayload: Decodable {
    var choices: [WireChoice]?
    var usage: WireUsage?
    var error: WireError?
}

struct WireChoice: Decodable {
    var index: Int?
    /// `/v1/completions`.
    var text: String?
    /// `/v1/chat/completions`, not streamed.
    var message: WireMessage?
    /// `/v1/chat/completions`, streamed.
    var delta: WireMessage?
    var finishReason: String?
    /// vLLM: the stop string (or token id) that ended the answer.
    var stopReason: WireStopReason?

    /// The text this choice carries, whichever endpoint and mode it came from.
    var content: String? { message?.content ?? delta?.content ?? text }
}

struct WireMessage: Decodable {
    var content: String?
}

struct WireUsage: Decodable {
    var promptTokens: Int?
    var completionTokens: Int?
    var promptTokensDetails: Details?

    struct Details: Decodable {
        var cachedTokens: Int?
    }

    var tokenUsage: TokenUsage {
        TokenUsage(
            promptTokens: promptTokens ?? 0,
            cachedPromptTokens: promptTokensDetails?.cachedTokens ?? 0,
            completionTokens: completionTokens ?? 0
        )
    }
}

/// `"error": {"message": …}` (OpenAI, vLLM, llama.cpp) or `"error": "…"`.
struct WireError: Decodable {
    var message: String

    init(from decoder: any Decoder) throws {
        if let text = try? decoder.singleValueContainer().decode(String.self) {
            message = text
            return
        }
        struct Object: Decodable { var message: String? }
        message = (try? Object(from: decoder).message) ?? "(no message)"
    }
}

/// vLLM's `stop_reason`: a string, a token id, or null.
struct WireStopReason: Decodable {
    var text: String?

    init(from decoder: any Decoder) throws {
        text = try? decoder.singleValueContainer().decode(String.self)
    }
}

extension WirePayload {
    static func decode(_ data: Data) throws -> WirePayload {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(WirePayload.self, from: data)
    }

    /// The choice Sparrow asked for (it always asks for one).
    var firstChoice: WireChoice? {
        choices?.first { ($0.index ?? 0) == 0 }
    }
}

extension FinishReason {
    /// Maps the server's `finish_reason`. OpenAI says `stop` for both an end-of-turn and a stop string; vLLM tells
    /// them apart with `stop_reason`, other servers do not, so their stop strings read as `endOfText`.
    init(wire: String?, stopReason: String?, stops: [String]) {
        switch wire {
        case "length": self = .length
        case "stop" where stopReason.map(stops.contains) == true: self = .stopString
        default: self = .endOfText
        }
    }
}
