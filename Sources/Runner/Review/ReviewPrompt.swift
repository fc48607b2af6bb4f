import Foundation
import Generation

/// The review prompt: a stable prefix (instructions and pull-request metadata, the same for every chunk of a run,
/// so the engine's prefix cache computes it once) followed by the chunk.
enum ReviewPrompt {
    static let instructions = """
    You are Sparrow, a meticulous code reviewer in a CI pipeline. You see one chunk of a change at a time: lines \
    marked + were added, - removed, and unmarked lines are context. The left column is the line number in the new \
    version of the file.

    Report only real problems in the added lines: bugs, security holes, data races, missing error handling, \
    performance traps, missing tests, misleading documentation, clear style problems. Do not praise, do not \
    restate the change, do not report what is fine. If nothing is wrong, answer with an empty list.

    Answer with JSON only, in this form:
    {"findings": [{"rule": "correctness", "severity": "warning", "path": "the/file.swift", "line": 12, "end_line": 12, \
    "message": "what is wrong and why", "replacement": "optional: the full corrected text of lines line..end_line"}]}
    - rule: one of correctness, security, performance, concurrency, error-handling, tests, docs, style
    - severity: error (a bug or vulnerability), warning (likely a problem), note (worth a look)
    - line, end_line: new-version line numbers from the left column
    """

    /// Pull-request title and description when the CI provides them (GitHub event file, GitLab variables).
    static func pullRequestContext(_ environment: [String: String]) -> String? {
        var title: String?
        var body: String?
        if let title_ = environment["CI_MERGE_REQUEST_TITLE"] {
            title = title_
            body = environment["CI_MERGE_REQUEST_DESCRIPTION"]
        } else if let eventPath = environment["GITHUB_EVENT_PATH"],
                  let data = FileManager.default.contents(atPath: eventPath),
                  let event = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let pullRequest = event["pull_request"] as? [String: Any] {
            title = pullRequest["title"] as? String
            body = pullRequest["body"] as? String
        }
        guard let title, !title.isEmpty else { return nil }
        var text = "Pull request: \(title)"
        if let body, !body.isEmpty { text += "\n\(String(body.prefix(2000)))" }
        return text
    }

    static func systemMessage(pullRequest: String?) -> String {
        pullRequest.map { instructions + "\n" + $0 + "\n" } ?? instructions
    }

    static func prompt(system: String, chunk: ReviewChunk) -> Prompt {
        .chat([ChatMessage(role: .system, content: system), ChatMessage(role: .user, content: chunk.body)])
    }
}

/// One finding as the model wrote it, checked against its chunk.
struct ProposedFinding: Sendable, Hashable {
    var rule: String
    var severity: String
    var path: String
    var line: Int
    var endLine: Int
    var message: String
    var replacement: String?
}

/// Strict reading of a review answer: `{"findings": [...]}` with every required field of the right type; findings
/// that point outside their chunk or use an unknown rule are counted as invalid, never guessed at.
enum ReviewAnswerParser {
    struct Result {
        var findings: [ProposedFinding] = []
        var invalid = 0
        /// Set when the whole answer is unusable.
        var failure: String?
    }

    private struct Answer: Decodable {
        var findings: [Item]
    }

    /// One element of `findings`; nil fields when it does not decode, so one bad finding does not sink the rest.
    private struct Item: Decodable {
        struct Fields: Decodable {
            var rule: String
            var severity: String
            var path: String
            var line: Int
            var endLine: Int?
            var message: String
            var replacement: String?

            enum CodingKeys: String, CodingKey {
                case rule, severity, path, line, endLine = "end_line", message, replacement
            }
        }

        var fields: Fields?

        init(from decoder: any Decoder) throws {
            fields = try? Fields(from: decoder)
        }
    }

    static func parse(_ text: String, chunk: ReviewChunk) -> Result {
        var result = Result()
        guard let answer = try? JSONDecoder().decode(Answer.self, from: Data(text.utf8)) else {
            result.failure = "the answer is not JSON of the form {\"findings\": [...]}"
            return result
        }
        for item in answer.findings {
            guard let fields = item.fields, ReviewSchema.rules.contains(fields.rule),
                  ["error", "warning", "note"].contains(fields.severity), fields.path == chunk.path,
                  chunk.lines.contains(fields.line), !fields.message.isEmpty
            else {
                result.invalid += 1
                continue
            }
            var endLine = fields.endLine ?? fields.line
            if !chunk.lines.contains(endLine) || endLine < fields.line { endLine = fields.line }
            result.findings.append(ProposedFinding(
                rule: fields.rule, severity: fields.severity, path: fields.path, line: fields.line, endLine: endLine,
                message: fields.message, replacement: fields.replacement
            ))
        }
        return result
    }
}
