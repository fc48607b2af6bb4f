import Foundation
import Generation
import Remote

/// `SPARROW_DEBUG_ANSWERS=FILE`: wraps the generator and appends one JSON line per answered request to FILE —
/// the request id, the schema it was constrained to (or null), the finish reason, the answer's raw text and the
/// request's prompt tokens with how many of them came from the prefix cache — so answers can be checked by tools
/// Sparrow does not contain (`Scripts/integration/smollm2-constraints` validates them with check-jsonschema;
/// `Benchmarks/review-prefix/run` reads the token counts). Diagnostics only: nothing else reads the file.
struct AnswerLog: TextGenerating {
    let inner: any TextGenerating
    let file: FileHandle
    private let lock = NSLock()

    init(wrapping inner: any TextGenerating, path: String) throws {
        self.inner = inner
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path])
            }
        }
        file = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try file.seekToEnd()
    }

    var model: ModelDescription { inner.model }

    func countTokens(_ prompt: Prompt) async -> Int { await inner.countTokens(prompt) }

    func generate(_ request: GenerationRequest) async throws(GenerationError) -> GenerationResponse {
        let response = try await inner.generate(request)
        var schema = "null"
        if case let .jsonSchema(_, value)? = request.constraint { schema = value.jsonText ?? "null" }
        let line = "{\"id\":\(JSONValue.string(request.id).jsonText ?? "\"\""),\"schema\":\(schema),"
            + "\"finish\":\(JSONValue.string(response.finishReason.rawValue).jsonText ?? "\"\""),"
            + "\"text\":\(JSONValue.string(response.text).jsonText ?? "\"\""),"
            + "\"prompt_tokens\":\(response.usage.promptTokens),"
            + "\"cached_prompt_tokens\":\(response.usage.cachedPromptTokens)}\n"
        lock.withLock { file.write(Data(line.utf8)) }
        return response
    }
}
