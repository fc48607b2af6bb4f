import Foundation

/// Mutants of the changed lines of a file (DESIGN.md §7): a flipped comparison, an off-by-one boundary, a negated
/// condition, a changed constant, a removed statement. Each mutant changes one line once; a test that fails on a
/// mutant while passing on the real code has shown it checks that line. Text-level operators, so they work for
/// any language; a mutant that does not compile still counts as killed, as in mutation-testing tools.
enum Mutants {
    struct Mutant: Sendable, Hashable {
        var path: String
        /// 1-based line.
        var line: Int
        /// e.g. `flipped comparison: < → >`.
        var operation: String
        /// The whole mutated file.
        var text: String

        var label: String { "\(path):\(line) \(operation)" }
    }

    /// Most mutants made for one task.
    static let limit = 24

    /// Mutants of `lines` (1-based) of `text`, at most `limit`.
    static func make(path: String, text: String, lines: [Int], limit: Int = limit) -> [Mutant] {
        var fileLines = text.components(separatedBy: "\n")
        var mutants: [Mutant] = []
        for number in lines.sorted() where number >= 1 && number <= fileLines.count {
            let original = fileLines[number - 1]
            for (operation, mutated) in mutations(of: original, python: path.hasSuffix(".py")) {
                fileLines[number - 1] = mutated
                mutants.append(Mutant(path: path, line: number, operation: operation, text: fileLines.joined(separator: "\n")))
                fileLines[number - 1] = original
                if mutants.count >= limit { return mutants }
            }
        }
        return mutants
    }

    /// The mutations of one line: (description, new line).
    static func mutations(of line: String, python: Bool) -> [(String, String)] {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty || ["#", "//", "/*", "*", "import ", "from ", "}", "{", ")", "]"].contains(where: { trimmed.hasPrefix($0) }) {
            return []
        }
        var result: [(String, String)] = []
        func swap(_ pairs: [(String, String)], _ name: String) {
            for (from, to) in pairs {
                if let range = operatorRange(from, in: line) {
                    result.append(("\(name): \(from) → \(to)", line.replacingCharacters(in: range, with: to)))
                    return
                }
            }
        }
        swap([("<=", ">="), (">=", "<="), ("<", ">"), (">", "<")], "flipped comparison")
        swap([("<=", "<"), (">=", ">"), ("<", "<="), (">", ">=")], "off-by-one")
        swap([("==", "!="), ("!=", "=="), ("&&", "||"), ("||", "&&"), (" and ", " or "), (" or ", " and "),
              ("True", "False"), ("False", "True"), ("true", "false"), ("false", "true")], "negated condition")
        if python, let range = line.range(of: #"\b(if|elif|while) "#, options: .regularExpression) {
            result.append(("negated condition: not", line.replacingCharacters(in: range, with: line[range] + "not ")))
        }
        if let range = line.range(of: #"(?<![A-Za-z_0-9.])[0-9]+(?![0-9.xXeE_A-Za-z])"#, options: .regularExpression),
           let value = Int(line[range]) {
            result.append(("changed constant: \(value) → \(value + 1)", line.replacingCharacters(in: range, with: String(value + 1))))
        }
        let indentation = String(line.prefix { $0 == " " || $0 == "\t" })
        if !trimmed.hasSuffix(":"), !trimmed.hasSuffix("{"), !trimmed.hasPrefix("def "), !trimmed.hasPrefix("func "),
           !trimmed.hasPrefix("class "), !trimmed.hasPrefix("else"), !trimmed.hasPrefix("case ") {
            result.append(("removed statement", indentation + (python ? "pass" : "")))
        }
        return result
    }

    /// `symbol` as an operator: not part of a longer operator such as `<<`, `->`, `=>`, `<=` (when looking for `<`).
    private static func operatorRange(_ symbol: String, in line: String) -> Range<String.Index>? {
        let operatorCharacters: Set<Character> = ["<", ">", "=", "!", "-", "&", "|"]
        var searchStart = line.startIndex
        while let range = line.range(of: symbol, options: .literal, range: searchStart..<line.endIndex) {
            let before = range.lowerBound > line.startIndex ? line[line.index(before: range.lowerBound)] : " "
            let after = range.upperBound < line.endIndex ? line[range.upperBound] : " "
            let wordLike = symbol.first?.isLetter == true
            if wordLike || (!operatorCharacters.contains(before) && !operatorCharacters.contains(after)) { return range }
            searchStart = line.index(after: range.lowerBound)
        }
        return nil
    }
}
