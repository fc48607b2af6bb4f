public import Generation

/// The answer format of a review request, as the JSON schema the decoder is constrained to.
public enum ReviewSchema {
    /// The rule ids a finding may carry.
    public static let rules = [
        "correctness", "security", "performance", "concurrency", "error-handling", "tests", "docs", "style",
    ]

    /// Most findings one chunk may report.
    public static let maxFindings = 8

    /// The schema for a chunk of `path` whose head-side lines are `lines`: the path and line numbers are
    /// constrained to the chunk, so every finding points into it.
    public static func schema(path: String, lines: ClosedRange<Int>) -> JSONValue {
        let line: JSONValue = .object([
            .init("type", .string("integer")), .init("minimum", .number(Double(lines.lowerBound))),
            .init("maximum", .number(Double(lines.upperBound))),
        ])
        let finding: JSONValue = .object([
            .init("type", .string("object")),
            .init("properties", .object([
                .init("rule", .object([.init("enum", .array(rules.map(JSONValue.string)))])),
                .init("severity", .object([.init("enum", .array(["error", "warning", "note"].map(JSONValue.string)))])),
                .init("path", .object([.init("enum", .array([.string(path)]))])),
                .init("line", line),
                .init("end_line", line),
                .init("message", .object([.init("type", .string("string")), .init("maxLength", .number(400))])),
                .init("replacement", .object([.init("type", .string("string")), .init("maxLength", .number(2000))])),
            ])),
            .init("required", .array(["rule", "severity", "path", "line", "end_line", "message"].map(JSONValue.string))),
            .init("additionalProperties", .bool(false)),
        ])
        return .object([
            .init("type", .string("object")),
            .init("properties", .object([
                .init("findings", .object([
                    .init("type", .string("array")), .init("items", finding), .init("maxItems", .number(Double(maxFindings))),
                ])),
            ])),
            .init("required", .array([.string("findings")])),
            .init("additionalProperties", .bool(false)),
        ])
    }
}
