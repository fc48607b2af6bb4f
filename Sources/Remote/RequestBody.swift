import Generation

/// The JSON body of one request, built once per call so every retry sends the same bytes (same seed included).
struct RequestBody: Sendable {
    /// `chat/completions` or `completions`.
    var endpoint: String
    var json: String

    /// What a repair request adds: the rejected answer and why it was rejected.
    struct Repair: Sendable {
        var rejectedAnswer: String
        var problem: String
    }

    /// The request in OpenAI's shape. `top_k` and `min_p` are not OpenAI fields but vLLM, SGLang and llama.cpp
    /// accept them; they are sent only when set. The constraint becomes `response_format` with a JSON schema.
    /// (llama-server from llama.cpp 0c1e57098 honours it on chat/completions but ignores it on completions, seen
    /// with curl: text prompts then rely on the client's strict parse and repair request.)
    init(request: GenerationRequest, model: String, streaming: Bool, repair: Repair? = nil)
        throws(GenerationError) {
        var members: [JSONValue.Member] = [JSONValue.Member("model", .string(model))]
        switch request.prompt {
        case let .chat(messages):
            endpoint = "chat/completions"
            var wire = messages.map { message in
                JSONValue.object([
                    JSONValue.Member("role", .string(message.role.rawValue)),
                    JSONValue.Member("content", .string(message.content)),
                ])
            }
            if let repair {
                wire.append(.object([JSONValue.Member("role", .string("assistant")),
                                     JSONValue.Member("content", .string(repair.rejectedAnswer))]))
                wire.append(.object([JSONValue.Member("role", .string("user")),
                                     JSONValue.Member("content", .string(Self.repairInstruction(repair)))]))
            }
            members.append(JSONValue.Member("messages", .array(wire)))
        case let .text(text):
            endpoint = "completions"
            var prompt = text
            if let repair { prompt += repair.rejectedAnswer + "\n\n" + Self.repairInstruction(repair) + "\n" }
            members.append(JSONValue.Member("prompt", .string(prompt)))
        }
        guard request.maxTokens > 0 else {
            throw .invalidRequest(requestID: request.id, reason: "max_tokens must be at least 1, got \(request.maxTokens)")
        }
        guard request.sampling.seed <= UInt64(Int64.max) else {
            throw .invalidRequest(requestID: request.id, reason: "seed must fit a signed 64-bit integer for an OpenAI-compatible server, got \(request.sampling.seed)")
        }
        let sampling = request.sampling
        members.append(JSONValue.Member("max_tokens", .number(Double(request.maxTokens))))
        members.append(JSONValue.Member("temperature", .number(sampling.temperature)))
        members.append(JSONValue.Member("top_p", .number(sampling.topP)))
        if sampling.topK > 0 { members.append(JSONValue.Member("top_k", .number(Double(sampling.topK)))) }
        if sampling.minP > 0 { members.append(JSONValue.Member("min_p", .number(sampling.minP))) }
        if !request.stop.isEmpty { members.append(JSONValue.Member("stop", .array(request.stop.map { .string($0) }))) }
        members.append(JSONValue.Member("n", .number(1)))
        if case let .jsonSchema(name, schema)? = request.constraint {
            members.append(JSONValue.Member("response_format", .object([
                JSONValue.Member("type", .string("json_schema")),
                JSONValue.Member("json_schema", .object([
                    JSONValue.Member("name", .string(name)),
                    JSONValue.Member("schema", schema),
                    JSONValue.Member("strict", .bool(true)),
                ])),
            ])))
        }
        members.append(JSONValue.Member("stream", .bool(streaming)))
        if streaming {
            members.append(JSONValue.Member("stream_options", .object([JSONValue.Member("include_usage", .bool(true))])))
        }
        guard var text = JSONValue.object(members).jsonText else {
            throw .invalidRequest(requestID: request.id, reason: "a number in the request (sampling or schema) is not finite")
        }
        // The seed is written as an exact integer: JSONValue numbers are Doubles, exact only below 2^53.
        text.removeLast()
        json = text + ",\"seed\":\(sampling.seed)}"
    }

    static func repairInstruction(_ repair: Repair) -> String {
        "Your answer is not valid: \(repair.problem). Reply again with only the corrected JSON document, "
            + "matching the required schema exactly, and nothing else."
    }
}
