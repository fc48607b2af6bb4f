import Foundation
import TestSupport

/// What the git CLI reports for one changed file: `git diff --raw -z` for status and paths, the matching section
/// of `git diff -U<n>` for hunks and line numbers. The reference the `Git` module is tested against.
struct ReferenceFile: Equatable, CustomStringConvertible {
    /// The raw status letter: A, D, M, R, C or T.
    var status: Character
    var oldPath: [UInt8]
    var newPath: [UInt8]
    var isBinary: Bool
    var lines: [ReferenceLine]
    /// Each hunk's old start, old count, new start and new count, from its `@@` header.
    var hunkRanges: [[Int]] = []

    var description: String {
        "\(status) \(String(decoding: oldPath, as: UTF8.self)) -> \(String(decoding: newPath, as: UTF8.self))"
            + (isBinary ? " binary" : "") + " \(lines.count) lines"
    }
}

/// One `+`, `-` or ` ` line of a git hunk with the numbers git's hunk headers give it.
struct ReferenceLine: Equatable, CustomStringConvertible {
    var kind: Character
    var oldLineNumber: Int?
    var newLineNumber: Int?
    var content: [UInt8]
    var endsWithNewline: Bool

    var description: String {
        "\(kind)\(oldLineNumber.map(String.init) ?? "-"):\(newLineNumber.map(String.init) ?? "-") "
            + String(decoding: content, as: UTF8.self) + (endsWithNewline ? "" : "⏎̸")
    }
}

enum GitCLIDiff {
    /// Parses `git diff --raw -z` output into (status letter, old path, new path) in git's order.
    static func parseRaw(_ data: Data) -> [(Character, [UInt8], [UInt8])] {
        var fields = data.split(separator: 0, omittingEmptySubsequences: false).map { Array($0) }
        if fields.last?.isEmpty == true { fields.removeLast() }
        var entries: [(Character, [UInt8], [UInt8])] = []
        var index = 0
        while index < fields.count {
            // ":100644 100644 abc... def... M" — the status is the last word; R and C carry a score.
            let meta = String(decoding: fields[index], as: UTF8.self)
            let statusWord = meta.split(separator: " ").last.map(String.init) ?? ""
            let status = statusWord.first ?? "?"
            if status == "R" || status == "C" {
                entries.append((status, fields[index + 1], fields[index + 2]))
                index += 3
            } else if status == "T" {
                // A type change (file <-> symlink) is printed as a deletion then an addition.
                entries.append(("D", fields[index + 1], fields[index + 1]))
                entries.append(("A", fields[index + 1], fields[index + 1]))
                index += 2
            } else {
                entries.append((status, fields[index + 1], fields[index + 1]))
                index += 2
            }
        }
        return entries
    }

    /// Splits `git diff -U<n>` output into per-file sections and reads each one's lines and binary marker.
    static func parsePatch(_ data: Data) -> [(isBinary: Bool, lines: [ReferenceLine], hunks: [[Int]])] {
        var sections: [(isBinary: Bool, lines: [ReferenceLine], hunks: [[Int]])] = []
        var inHunks = false
        var oldNumber = 0, newNumber = 0
        for raw in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            let line = Array(raw)
            if line.starts(with: Array("diff --git ".utf8)) {
                sections.append((false, [], []))
                inHunks = false
                continue
            }
            guard !sections.isEmpty else { continue }
            if line.starts(with: Array("@@ ".utf8)) {
                inHunks = true
                let range = hunkRange(line)
                sections[sections.count - 1].hunks.append(range)
                (oldNumber, newNumber) = (range[0], range[2])
                continue
            }
            if !inHunks {
                if line.starts(with: Array("Binary files ".utf8)) { sections[sections.count - 1].isBinary = true }
                continue
            }
            guard let first = line.first else { continue }
            let body = Array(line.dropFirst())
            switch first {
            case UInt8(ascii: "+"):
                sections[sections.count - 1].lines.append(ReferenceLine(
                    kind: "+", oldLineNumber: nil, newLineNumber: newNumber, content: body, endsWithNewline: true))
                newNumber += 1
            case UInt8(ascii: "-"):
                sections[sections.count - 1].lines.append(ReferenceLine(
                    kind: "-", oldLineNumber: oldNumber, newLineNumber: nil, content: body, endsWithNewline: true))
                oldNumber += 1
            case UInt8(ascii: " "):
                sections[sections.count - 1].lines.append(ReferenceLine(
                    kind: " ", oldLineNumber: oldNumber, newLineNumber: newNumber, content: body,
                    endsWithNewline: true))
                oldNumber += 1
                newNumber += 1
            case UInt8(ascii: "\\"):
                // "\ No newline at end of file" belongs to the line before it.
                let last = sections[sections.count - 1].lines.count - 1
                if last >= 0 { sections[sections.count - 1].lines[last].endsWithNewline = false }
            default:
                break
            }
        }
        return sections
    }

    /// `[oldStart, oldCount, newStart, newCount]` of a `@@ -a[,b] +c[,d] @@` header (a missing count is 1).
    static func hunkRange(_ header: [UInt8]) -> [Int] {
        let words = String(decoding: header, as: UTF8.self).split(separator: " ")
        func range(_ word: Substring) -> [Int] {
            let parts = word.dropFirst().split(separator: ",").map { Int($0) ?? -1 }
            return [parts.first ?? -1, parts.count > 1 ? parts[1] : 1]
        }
        guard words.count >= 3 else { return [-1, -1, -1, -1] }
        return range(words[1]) + range(words[2])
    }

    /// The git CLI's view of `base..head` with `context` lines, using git's defaults (no configuration).
    static func reference(
        in directory: URL, base: String, head: String, context: Int, extraArguments: [String] = []
    ) throws -> [ReferenceFile] {
        let raw = try runChecked(["diff", "--raw", "-z", base, head] + extraArguments, in: directory)
        let patch = try runChecked(["diff", "--no-color", "-U\(context)", base, head] + extraArguments, in: directory)
        let entries = parseRaw(raw)
        let sections = parsePatch(patch)
        guard entries.count == sections.count else {
            throw ReferenceError(message: "git printed \(entries.count) raw entries but \(sections.count) patches")
        }
        return zip(entries, sections).map { entry, section in
            ReferenceFile(
                status: entry.0, oldPath: entry.1, newPath: entry.2, isBinary: section.isBinary,
                lines: section.lines, hunkRanges: section.hunks
            )
        }
    }

    static func runChecked(_ arguments: [String], in directory: URL) throws -> Data {
        let result = try GitRepository.runGit(arguments, in: directory)
        guard result.status == 0 else {
            throw ReferenceError(message: "git \(arguments) failed: \(String(decoding: result.error, as: UTF8.self))")
        }
        return result.output
    }
}

struct ReferenceError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
