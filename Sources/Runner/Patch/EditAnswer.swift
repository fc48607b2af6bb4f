import Foundation

/// A patch answer, parsed strictly (see `EditSchema`). Nothing in it is trusted yet: `apply` checks every path
/// and size before writing.
struct EditAnswer: Sendable, Hashable {
    enum Item: Sendable, Hashable {
        case replace(path: String, search: String, replace: String)
        case rewrite(path: String, content: String)

        var path: String {
            switch self {
            case let .replace(path, _, _), let .rewrite(path, _): path
            }
        }
    }

    var items: [Item]

    /// Parses `text`; the error says what was expected where.
    static func parse(_ text: String) -> (answer: EditAnswer?, problem: String?) {
        guard let data = text.data(using: .utf8),
              let root = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]),
              let object = root as? [String: Any]
        else { return (nil, "the answer is not a JSON object") }
        let unknown = Set(object.keys).subtracting(["edits", "rewrites"])
        if let key = unknown.sorted().first { return (nil, "unexpected key '\(key)' (expected edits, rewrites)") }
        var items: [Item] = []
        guard let edits = object["edits"] as? [Any] else { return (nil, "expected edits: [...]") }
        for (index, element) in edits.enumerated() {
            guard let edit = element as? [String: Any], edit.count == 1, let (path, value) = edit.first,
                  let body = value as? [String: Any], Set(body.keys) == ["search", "replace"],
                  let search = body["search"] as? String, let replace = body["replace"] as? String
            else { return (nil, "edits[\(index)]: expected {\"PATH\": {\"search\": \"…\", \"replace\": \"…\"}}") }
            items.append(.replace(path: path, search: search, replace: replace))
        }
        if let rewrites = object["rewrites"] {
            guard let list = rewrites as? [Any] else { return (nil, "expected rewrites: [...]") }
            for (index, element) in list.enumerated() {
                guard let rewrite = element as? [String: Any], rewrite.count == 1, let (path, value) = rewrite.first,
                      let content = value as? String
                else { return (nil, "rewrites[\(index)]: expected {\"PATH\": \"whole new text\"}") }
                items.append(.rewrite(path: path, content: content))
            }
        }
        return (EditAnswer(items: items), nil)
    }

    /// Applies the items in order to the worktree of `editGuard`, each only if its path is one of `allowed`
    /// and passes the guard, its SEARCH text occurs exactly once, and its size is within limits.
    /// - Returns: the paths changed and the items refused, with reasons.
    func apply(guard editGuard: EditGuard, allowed: Set<String>, rewrites: Bool = true) -> (changed: [String], refused: [EditRefusal]) {
        var changed: [String] = []
        var refused: [EditRefusal] = []
        for item in items {
            let path = item.path
            if let problem = EditGuard.problem(with: path) {
                refused.append(EditRefusal(path: path, reason: problem))
                continue
            }
            if let problem = editGuard.checkOnDisk(path) {
                refused.append(EditRefusal(path: path, reason: problem))
                continue
            }
            guard allowed.contains(path) else {
                refused.append(EditRefusal(path: path, reason: "'\(path)' is not one of the files shown to the model"))
                continue
            }
            let newText: String
            switch item {
            case let .replace(_, search, replace):
                if let refusal = editGuard.refusal(path: path, bytes: replace.utf8.count) {
                    refused.append(EditRefusal(path: path, reason: refusal))
                    continue
                }
                let current = editGuard.read(path)
                guard let text = current.text else {
                    refused.append(current.refusal ?? EditRefusal(path: path, reason: "cannot read"))
                    continue
                }
                let occurrences = Self.count(search, in: text)
                guard !search.isEmpty, occurrences == 1 else {
                    let why = search.isEmpty ? "an empty SEARCH text" : occurrences == 0
                        ? "the SEARCH text does not occur in '\(path)'" : "the SEARCH text occurs \(occurrences) times in '\(path)' (expected once)"
                    refused.append(EditRefusal(path: path, reason: why))
                    continue
                }
                guard let range = text.range(of: search, options: .literal) else { continue }
                newText = text.replacingCharacters(in: range, with: replace)
            case let .rewrite(_, content):
                guard rewrites else {
                    refused.append(EditRefusal(path: path, reason: "whole-file rewrites are not offered on this attempt"))
                    continue
                }
                let current = editGuard.read(path)
                guard let text = current.text else {
                    refused.append(current.refusal ?? EditRefusal(path: path, reason: "cannot read"))
                    continue
                }
                guard text.utf8.count <= EditSchema.rewriteLimit else {
                    refused.append(EditRefusal(path: path, reason: "'\(path)' is \(text.utf8.count) bytes: only files up to \(EditSchema.rewriteLimit) bytes may be rewritten whole"))
                    continue
                }
                newText = content
            }
            if let refusal = editGuard.write(newText, to: path) {
                refused.append(refusal)
            } else if !changed.contains(path) {
                changed.append(path)
            }
        }
        return (changed, refused)
    }

    static func count(_ needle: String, in haystack: String) -> Int {
        guard !needle.isEmpty else { return 0 }
        var count = 0
        var searchRange = haystack.startIndex..<haystack.endIndex
        while let found = haystack.range(of: needle, options: .literal, range: searchRange) {
            count += 1
            searchRange = haystack.index(after: found.lowerBound)..<haystack.endIndex
        }
        return count
    }
}
