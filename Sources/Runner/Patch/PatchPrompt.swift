import Generation

/// The prompt of a patch request: the instruction, the files (stable prefix), then what went wrong last time.
enum PatchPrompt {
    static let system = """
        You are Sparrow, an automated code-change tool running in CI. Change the files shown so that the \
        instruction is carried out and the project's verification passes. Answer only with JSON: \
        {"edits": [{"PATH": {"search": "text copied exactly from that file, enough lines to be unique", \
        "replace": "the new text"}}], "rewrites": [{"PATH": "the whole new file"}]}. Use rewrites only for \
        small files. Keep edits minimal; do not touch files you were not shown.
        """

    static func prompt(instruction: String, files: [(path: String, text: String)], previous: (answer: String, problem: String)?) -> Prompt {
        var user = "Instruction: \(instruction)\n"
        for file in files {
            user += "\n=== \(file.path) ===\n\(file.text)"
            if !file.text.hasSuffix("\n") { user += "\n" }
        }
        if let previous {
            user += "\nYour previous answer was:\n\(previous.answer)\n\nIt did not work:\n\(previous.problem)\n"
            user += "Answer again with edits against the files as shown above (the previous edits were undone).\n"
        }
        return .chat([ChatMessage(role: .system, content: system), ChatMessage(role: .user, content: user)])
    }
}
