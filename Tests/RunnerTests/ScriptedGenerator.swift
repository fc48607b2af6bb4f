import Annotations
import Foundation
import Generation
import Runner

/// A `TextGenerating` that answers from a script: a closure from request to answer text. It records every request
/// so tests can check what the runner asked for.
final class ScriptedGenerator: TextGenerating, @unchecked Sendable {
    let model: ModelDescription
    private let answer: @Sendable (GenerationRequest) async throws(GenerationError) -> String
    private let lock = NSLock()
    private var recorded: [GenerationRequest] = []
    private var inFlight = 0
    private(set) var maxInFlight = 0

    init(contextLength: Int = 4096, identity: String = "scripted-1", answer: @escaping @Sendable (GenerationRequest) async throws(GenerationError) -> String) {
        model = ModelDescription(name: "scripted", contextLength: contextLength, identity: identity)
        self.answer = answer
    }

    var requests: [GenerationRequest] { lock.withLock { recorded } }

    func generate(_ request: GenerationRequest) async throws(GenerationError) -> GenerationResponse {
        lock.withLock {
            recorded.append(request)
            inFlight += 1
            maxInFlight = max(maxInFlight, inFlight)
        }
        defer { lock.withLock { inFlight -= 1 } }
        let text = try await answer(request)
        return GenerationResponse(
            requestID: request.id, text: text, finishReason: .endOfText,
            usage: TokenUsage(promptTokens: await countTokens(request.prompt), completionTokens: text.utf8.count / 4)
        )
    }

    /// The user message of a chat request (the chunk).
    static func chunk(of request: GenerationRequest) -> String {
        guard case let .chat(messages) = request.prompt else { return "" }
        return messages.last?.content ?? ""
    }

    /// The line range a request's schema allows (the chunk's head-side lines).
    static func lineRange(of request: GenerationRequest) -> ClosedRange<Int>? {
        guard case let .jsonSchema(_, schema)? = request.constraint,
              case let .object(line)? = schema["properties"]?["findings"]?["items"]?["properties"]?["line"],
              case let .number(low)? = line.first(where: { $0.key == "minimum" })?.value,
              case let .number(high)? = line.first(where: { $0.key == "maximum" })?.value
        else { return nil }
        return Int(low)...Int(high)
    }

    /// The path a request's schema allows.
    static func path(of request: GenerationRequest) -> String? {
        guard case let .jsonSchema(_, schema)? = request.constraint,
              case let .array(paths)? = schema["properties"]?["findings"]?["items"]?["properties"]?["path"]?["enum"],
              case let .string(path)? = paths.first
        else { return nil }
        return path
    }

    /// A findings answer.
    static func findings(_ items: [(rule: String, severity: String, path: String, line: Int, message: String)]) -> String {
        let objects = items.map { item in
            "{\"rule\": \"\(item.rule)\", \"severity\": \"\(item.severity)\", \"path\": \"\(item.path)\", \"line\": \(item.line), \"end_line\": \(item.line), \"message\": \"\(item.message)\"}"
        }
        return "{\"findings\": [\(objects.joined(separator: ", "))]}"
    }
}

/// Collects what a run reports.
final class RecordingReporter: RunReporter, @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []

    var messages: [String] { lock.withLock { lines } }

    func message(_ text: String) { lock.withLock { lines.append(text) } }

    func taskFinished(_ entry: JournalEntry, done: Int, total: Int, tokensPerSecond: Double, etaSeconds: Double?) {
        lock.withLock { lines.append("[\(done)/\(total)] \(entry.id) \(entry.status.rawValue)") }
    }
}
