import Foundation

/// Picks the files a patch task shows the model when the spec names none: files whose path the instruction
/// mentions first, then files holding the identifiers it names (code-like names weigh more than plain words),
/// within a size budget.
struct FileFinder: Sendable {
    /// Largest file considered, in bytes.
    var maxFileBytes = 256 << 10
    /// Most files picked.
    var maxFiles = 5

    /// Words too common in instructions to say anything about where the change goes.
    static let ignored: Set<String> = [
        "the", "and", "for", "that", "this", "with", "from", "make", "when", "should", "must", "not", "add", "fix",
        "use", "into", "are", "has", "have", "its", "instead", "return", "returns", "reject", "empty", "test", "tests",
        "file", "function", "value", "error", "bug", "code", "all", "any", "new", "get", "set", "one", "two",
    ]

    /// The identifiers and path-like words of `instruction`.
    static func terms(_ instruction: String) -> (paths: [String], identifiers: [String: Int]) {
        var paths: [String] = []
        var identifiers: [String: Int] = [:]
        for word in instruction.split(whereSeparator: { $0.isWhitespace || "`'\"(),;:".contains($0) }) {
            let trimmed = String(word).trimmingCharacters(in: CharacterSet(charactersIn: ".!?"))
            if trimmed.contains("/") || (trimmed.contains(".") && !trimmed.hasSuffix(".")) { paths.append(trimmed) }
            for part in trimmed.split(whereSeparator: { !($0.isLetter || $0.isNumber || $0 == "_") }) {
                let name = String(part)
                guard name.count >= 3, name.first?.isNumber == false, !ignored.contains(name.lowercased()) else { continue }
                let codeLike = name.contains("_") || name.dropFirst().contains(where: \.isUppercase)
                identifiers[name] = max(identifiers[name] ?? 0, codeLike ? 3 : 1)
            }
        }
        return (paths, identifiers)
    }

    /// The chosen paths (relative to `root`), best first, whose texts together stay within `budgetBytes`.
    func find(instruction: String, in root: URL, budgetBytes: Int) -> [String] {
        let (paths, identifiers) = Self.terms(instruction)
        var scored: [(path: String, score: Int, size: Int)] = []
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey, .fileSizeKey, .isSymbolicLinkKey]) else { return [] }
        let rootPath = root.standardizedFileURL.path
        while let url = walker.nextObject() as? URL {
            let name = url.lastPathComponent
            if name.hasPrefix(".") {
                walker.skipDescendants()
                continue
            }
            guard let values = try? url.resourceValues(forKeys: [.isRegularFileKey, .fileSizeKey, .isSymbolicLinkKey]),
                  values.isRegularFile == true, values.isSymbolicLink != true, let size = values.fileSize, size <= maxFileBytes
            else { continue }
            let full = url.standardizedFileURL.path
            guard full.hasPrefix(rootPath + "/") else { continue }
            let relative = String(full.dropFirst(rootPath.count + 1))
            guard let data = FileManager.default.contents(atPath: full), !data.contains(0) else { continue }
            let text = String(decoding: data, as: UTF8.self)
            var score = 0
            if paths.contains(where: { relative == $0 || relative.hasSuffix("/" + $0) }) { score += 1000 }
            let stem = (name as NSString).deletingPathExtension
            if identifiers[stem] != nil { score += 50 }
            for (identifier, weight) in identifiers where text.contains(identifier) { score += weight }
            if score > 0 { scored.append((relative, score, size)) }
        }
        scored.sort { $0.score != $1.score ? $0.score > $1.score : $0.path < $1.path }
        var chosen: [String] = []
        var used = 0
        for file in scored where chosen.count < maxFiles && used + file.size <= budgetBytes {
            chosen.append(file.path)
            used += file.size
        }
        return chosen
    }
}
