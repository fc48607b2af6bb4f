public import Generation

/// The answer format of a tests request: candidate test files under the task's `test_dir`, each a whole new file.
///
/// ```json
/// {"tests": [{"path": "tests/test_range.py", "content": "…"}]}
/// ```
public enum TestsSchema {
    /// Most candidates one answer may hold.
    public static let maxCandidates = 3
    /// Longest candidate file, in characters.
    public static let maxContent = 16_384

    /// The schema for candidates under `testDirectory` (a repository-relative folder without a trailing slash).
    public static func schema(testDirectory: String) -> JSONValue {
        let prefix = escape(testDirectory)
        let candidate: JSONValue = .object([
            .init("type", .string("object")),
            .init("properties", .object([
                .init("path", .object([
                    .init("type", .string("string")), .init("maxLength", .number(200)),
                    .init("pattern", .string("^\(prefix)/[A-Za-z0-9_][A-Za-z0-9_.-]*(/[A-Za-z0-9_][A-Za-z0-9_.-]*)*$")),
                ])),
                .init("content", .object([.init("type", .string("string")), .init("maxLength", .number(Double(maxContent)))])),
            ])),
            .init("required", .array([.string("path"), .string("content")])),
            .init("additionalProperties", .bool(false)),
        ])
        return .object([
            .init("type", .string("object")),
            .init("properties", .object([
                .init("tests", .object([
                    .init("type", .string("array")), .init("items", candidate), .init("minItems", .number(1)),
                    .init("maxItems", .number(Double(maxCandidates))),
                ])),
            ])),
            .init("required", .array([.string("tests")])), .init("additionalProperties", .bool(false)),
        ])
    }

    /// `text` with the regular-expression metacharacters escaped.
    static func escape(_ text: String) -> String {
        var escaped = ""
        for character in text {
            if "\\^$.|?*+()[]{}".contains(character) { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped
    }
}
