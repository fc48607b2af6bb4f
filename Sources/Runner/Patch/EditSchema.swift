public import Generation

/// The answer format of a patch request, as the JSON schema the decoder is constrained to:
///
/// ```json
/// {"edits": [{"Sources/a.swift": {"search": "exact text of the file", "replace": "new text"}}],
///  "rewrites": [{"small.py": "the whole new file"}]}
/// ```
///
/// Each edit is an object whose only key is the file's path, so the constraint compiler's `oneOf` (the first key
/// picks the branch) can tie `search` to that file's text with `x-sparrow-unique-substring-of` (a substring that
/// occurs exactly once, so every edit names one place). `rewrites` (the
/// whole-file fallback) is offered only when asked for, and only for files of at most `rewriteLimit` bytes.
public enum EditSchema {
    /// Files up to this size may be rewritten whole.
    public static let rewriteLimit = 4096
    /// Most edits one answer may hold.
    public static let maxEdits = 16
    /// Longest replacement or rewrite the schema allows, in characters.
    public static let maxReplacement = 16_384
    /// The string keyword of the constraint compiler (Engine's `ConstraintProgram.uniqueSubstringKeyword`).
    public static let substringKeyword = "x-sparrow-unique-substring-of"

    /// The schema for `files` (path and current text, in the order shown to the model); with `rewrites`, small
    /// files may also be rewritten whole.
    public static func schema(files: [(path: String, text: String)], rewrites: Bool = true) -> JSONValue {
        let text: (Int) -> JSONValue = { limit in
            .object([.init("type", .string("string")), .init("maxLength", .number(Double(limit)))])
        }
        let editBranches: [JSONValue] = files.map { file in
            let edit: JSONValue = .object([
                .init("type", .string("object")),
                .init("properties", .object([
                    .init("search", .object([
                        .init("type", .string("string")), .init("minLength", .number(1)),
                        .init(substringKeyword, .string(file.text)),
                    ])),
                    .init("replace", text(maxReplacement)),
                ])),
                .init("required", .array([.string("search"), .string("replace")])),
                .init("additionalProperties", .bool(false)),
            ])
            return single(key: file.path, value: edit)
        }
        var properties: [JSONValue.Member] = [
            .init("edits", .object([
                .init("type", .string("array")), .init("items", .object([.init("oneOf", .array(editBranches))])),
                .init("maxItems", .number(Double(maxEdits))),
            ])),
        ]
        let small = rewrites ? files.filter { $0.text.utf8.count <= rewriteLimit } : []
        if !small.isEmpty {
            properties.append(.init("rewrites", .object([
                .init("type", .string("array")),
                .init("items", .object([.init("oneOf", .array(small.map { single(key: $0.path, value: text(maxReplacement)) }))])),
                .init("maxItems", .number(Double(small.count))),
            ])))
        }
        return .object([
            .init("type", .string("object")), .init("properties", .object(properties)),
            .init("required", .array([.string("edits")])), .init("additionalProperties", .bool(false)),
        ])
    }

    private static func single(key: String, value: JSONValue) -> JSONValue {
        .object([
            .init("type", .string("object")), .init("properties", .object([.init(key, value)])),
            .init("required", .array([.string(key)])), .init("additionalProperties", .bool(false)),
        ])
    }
}
