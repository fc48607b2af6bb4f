import Foundation

/// A tests answer, parsed strictly (see `TestsSchema`); paths are checked by `EditGuard` before anything is written.
struct TestsAnswer: Sendable, Hashable {
    var candidates: [(path: String, content: String)]

    static func == (lhs: TestsAnswer, rhs: TestsAnswer) -> Bool {
        lhs.candidates.map(\.path) == rhs.candidates.map(\.path) && lhs.candidates.map(\.content) == rhs.candidates.map(\.content)
    }

    func hash(into hasher: inout Hasher) {
        for candidate in candidates {
            hasher.combine(candidate.path)
            hasher.combine(candidate.content)
        }
    }

    static func parse(_ text: String) -> (answer: TestsAnswer?, problem: String?) {
        guard let data = text.data(using: .utf8),
              let root = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]),
              let object = root as? [String: Any], Set(object.keys) == ["tests"], let tests = object["tests"] as? [Any]
        else { return (nil, "expected {\"tests\": [{\"path\": …, \"content\": …}]}") }
        var candidates: [(path: String, content: String)] = []
        for (index, element) in tests.enumerated() {
            guard let item = element as? [String: Any], Set(item.keys) == ["path", "content"],
                  let path = item["path"] as? String, let content = item["content"] as? String
            else { return (nil, "tests[\(index)]: expected {\"path\": \"…\", \"content\": \"…\"}") }
            candidates.append((path, content))
        }
        return (TestsAnswer(candidates: candidates), nil)
    }
}
