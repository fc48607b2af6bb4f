import Generation

/// The prompt of a patch request: the instruction, the files (stable prefix), then what went wrong last time.
enum PatchPrompt {
    /// No placeholder values in the format description: small models copy them verbatim (measured with
    /// SmolLM2-135M, which answered `"search": "the stats.py file"` when the example said so).
    static let system = """
        You are Sparrow, an automated code-change tool running in CI. Change the files shown so that the \
        instruction is carried out and the project's verification passes. Answer only with a JSON object whose \
        "edits" list holds objects of one key: the path of a file shown, mapped to {"search", "replace"}, where \
        search is one or more whole lines copied exactly from that file (unique in it) and replace is what those \
        lines become. When a "rewrites" list is offered, it maps a small file's path to its complete new text. \
        Keep edits minimal; do not touch files you were not shown.
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
