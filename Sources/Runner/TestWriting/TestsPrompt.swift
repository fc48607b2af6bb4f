import Generation

/// The prompt of a tests request: what changed (head's text of each changed file with its diff), an example test
/// from `test_dir`, and how the tests are run.
enum TestsPrompt {
    static let system = """
        You are Sparrow, an automated test writer running in CI. Write new test files that check the behaviour \
        the change introduced: they must pass on the code as shown and would fail if the changed lines were wrong. \
        Follow the style and framework of the existing tests. Answer only with JSON: \
        {"tests": [{"path": "TEST_DIR/new_test_file", "content": "the whole file"}]}.
        """

    static func prompt(
        changed: [(path: String, text: String, diff: String)], testDirectory: String, example: (path: String, text: String)?,
        run: String
    ) -> Prompt {
        var user = "Tests live in \(testDirectory)/ and are run with `\(run)` from the repository root.\n"
        for file in changed {
            user += "\n=== \(file.path) (after the change) ===\n\(file.text)"
            if !file.text.hasSuffix("\n") { user += "\n" }
            user += "--- the change ---\n\(file.diff)\n"
        }
        if let example {
            user += "\n=== an existing test: \(example.path) ===\n\(example.text)\n"
        }
        user += "\nWrite new test files under \(testDirectory)/ (new names; do not replace existing files).\n"
        return .chat([ChatMessage(role: .system, content: system), ChatMessage(role: .user, content: user)])
    }
}
