import Foundation
import TestSupport

/// A two-commit repository with every case the diff has to get right: renames (exact and edited), binary files,
/// CRLF lines, empty files, a non-UTF-8 path and content, mode changes, a symlink, submodule entries, a missing
/// final newline, a file that becomes a symlink, an indent-heuristic case and a large file.
struct SampleRepository {
    let repository: GitRepository
    let base: String
    let head: String

    /// A non-UTF-8 (Latin-1) path: "café.txt" with é as the single byte 0xE9.
    static let latin1Path: [UInt8] = Array("caf".utf8) + [0xE9] + Array(".txt".utf8)

    static func make() throws -> SampleRepository {
        let repository = try GitRepository()
        let base = try repository.commit(baseEntries(), message: "Base\n\nAll the starting files.\n")
        let head = try repository.commit(headEntries(), message: "Head: renames, binaries, modes\n")
        return SampleRepository(repository: repository, base: base, head: head)
    }

    static func lexer(_ extra: String) -> String {
        (1...40).map { "    let token\($0) = scan(\($0))  // lexer line \($0)" }.joined(separator: "\n")
            + "\n" + extra
    }

    /// A change that git's indent heuristic places differently from plain xdiff sliding (found by comparing
    /// `git diff` with and without `--no-indent-heuristic` on generated snippets): git adds new lines 4-7, plain
    /// sliding would add 5-8.
    static let functionsBefore = "\n    }\n    if (b) {\n{\n}\n\n"
    static let functionsAfter = "\n    }\n    if (b) {\n{\n    y();\n{\n    y();\n{\n}\n\n"

    static func bigText(edited: Bool) -> String {
        var lines = (1...60_000).map { "row \($0): the quick brown fox jumps over the lazy dog \($0 % 97)" }
        if edited {
            lines[10] = "row 11: edited near the top"
            lines.insert("an inserted row in the middle", at: 30_000)
            lines.remove(at: 45_000)
            lines[59_990] = "row near the end, edited"
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func binary(_ seed: UInt8) -> Data {
        Data((0..<3000).map { UInt8(truncatingIfNeeded: Int($0) * 7 + Int(seed)) } + [0, 1, 2, 0])
    }

    static func baseEntries() -> [GitRepositoryEntry] {
        [
            .file("README.md", "# Sample\n\nLine three.\nLine four.\n"),
            .file("src/Lexer.swift", lexer("")),
            .file("docs/guide.txt", (1...20).map { "guide line \($0)" }.joined(separator: "\n") + "\n"),
            .file("crlf.txt", "one\r\ntwo\r\nthree\r\nfour\r\n"),
            .file("empty-then-text.txt", ""),
            .file("deleted.txt", "going away\nsoon\n"),
            .file("script.sh", "#!/bin/sh\necho hi\n"),
            .file("tool.sh", "#!/bin/sh\necho tool\n"),
            .file("image.bin", bytes: binary(1)),
            .file("big.txt", bigText(edited: false)),
            .file("no-newline.txt", "first\nlast without newline"),
            .file("functions.swift", functionsBefore),
            .symlink("current", to: "docs/guide.txt"),
            .file("becomes-link", "a regular file first\n"),
            .submodule("vendor/lib", commit: String(repeating: "1", count: 40)),
            GitRepositoryEntry(path: latin1Path, content: Data([0x6E, 0x61, 0xEF, 0x76, 0x65, 0x0A, 0x62, 0x0A])),
        ]
    }

    static func headEntries() -> [GitRepositoryEntry] {
        [
            .file("README.md", "# Sample\n\nLine three, edited.\nLine four.\nLine five.\n"),
            // Renamed with an edit: 40 of 41 lines kept.
            .file("src/Scanner.swift", lexer("    let extra = true\n")),
            // Renamed as is.
            .file("docs/manual.txt", (1...20).map { "guide line \($0)" }.joined(separator: "\n") + "\n"),
            .file("crlf.txt", "one\r\nTWO\r\nthree\r\nfour\r\nfive\r\n"),
            .file("empty-then-text.txt", "now has text\n"),
            .file("new-empty.txt", ""),
            .file("script.sh", "#!/bin/sh\necho hi\n", executable: true),
            .file("tool.sh", "#!/bin/sh\necho tool v2\n", executable: true),
            .file("image.bin", bytes: binary(2)),
            .file("new-image.bin", bytes: binary(3)),
            .file("big.txt", bigText(edited: true)),
            .file("no-newline.txt", "first\nlast without newline\nnow with one\n"),
            .file("functions.swift", functionsAfter),
            .symlink("current", to: "docs/manual.txt"),
            .symlink("becomes-link", to: "README.md"),
            .submodule("vendor/lib", commit: String(repeating: "2", count: 40)),
            .submodule("vendor/new", commit: String(repeating: "3", count: 40)),
            GitRepositoryEntry(
                path: latin1Path, content: Data([0x6E, 0x61, 0xEF, 0x76, 0x65, 0x0A, 0xE9, 0x74, 0xE9, 0x0A])
            ),
        ]
    }
}
