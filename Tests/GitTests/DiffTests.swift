import Foundation
import Git
import Testing
import TestSupport

@Suite("Diff against the git CLI")
struct DiffTests {
    /// Sparrow's files in the reference's shape, for comparison.
    static func converted(_ file: FileDiff) -> ReferenceFile {
        let status: Character = switch file.status {
        case .added: "A"
        case .deleted: "D"
        case .modified: "M"
        case .renamed: "R"
        case .copied: "C"
        case .typeChanged: "T"
        }
        let lines = file.hunks.flatMap(\.lines).map { line in
            let kind: Character = switch line.kind {
            case .added: "+"
            case .deleted: "-"
            case .context: " "
            }
            return ReferenceLine(
                kind: kind, oldLineNumber: line.oldLineNumber, newLineNumber: line.newLineNumber,
                content: line.content, endsWithNewline: line.endsWithNewline
            )
        }
        return ReferenceFile(
            status: status, oldPath: (file.oldPath ?? file.path).bytes, newPath: (file.newPath ?? file.path).bytes,
            isBinary: file.isBinary, lines: lines,
            hunkRanges: file.hunks.map { [$0.oldStart, $0.oldCount, $0.newStart, $0.newCount] }
        )
    }

    /// The key a file is compared under: its new path and status (a type change gives two files, one path).
    static func key(_ file: ReferenceFile) -> [UInt8] { file.newPath + [0] + Array(String(file.status).utf8) }

    /// Compares file by file so a mismatch names the file.
    static func expectSameAsGit(_ ours: Diff, _ reference: [ReferenceFile]) {
        let mine = Dictionary(ours.files.map { (key(converted($0)), converted($0)) }, uniquingKeysWith: { a, _ in a })
        #expect(ours.files.count == reference.count, "file count: ours \(ours.files.count), git \(reference.count)")
        for expected in reference {
            let name = String(decoding: expected.newPath, as: UTF8.self)
            guard let actual = mine[key(expected)] else {
                Issue.record("git reports \(expected) but Sparrow has no file \(name)")
                continue
            }
            #expect(actual.status == expected.status, "\(name): status")
            #expect(actual.oldPath == expected.oldPath, "\(name): old path")
            #expect(actual.isBinary == expected.isBinary, "\(name): binary")
            #expect(actual.lines.count == expected.lines.count, "\(name): line count")
            #expect(actual.hunkRanges == expected.hunkRanges, "\(name): hunk ranges")
            for (index, pair) in zip(actual.lines, expected.lines).enumerated() where pair.0 != pair.1 {
                Issue.record("\(name) line \(index): Sparrow \(pair.0), git \(pair.1)")
                break
            }
        }
    }

    @Test("per-line numbers equal git diff -U0, -U3 and -U7", arguments: [0, 3, 7])
    func linesMatchGit(context: Int) throws {
        let sample = try SampleRepository.make()
        defer { sample.repository.remove() }
        let repository = try Repository(at: sample.repository.url)
        let ours = try repository.diff(from: sample.base, to: sample.head, options: DiffOptions(contextLines: context))
        let reference = try GitCLIDiff.reference(
            in: sample.repository.url, base: sample.base, head: sample.head, context: context
        )
        Self.expectSameAsGit(ours, reference)
    }

    @Test("statuses: renames, binaries, modes, submodules, non-UTF-8 path")
    func statuses() throws {
        let sample = try SampleRepository.make()
        defer { sample.repository.remove() }
        let diff = try Repository(at: sample.repository.url).diff(from: sample.base, to: sample.head)

        let scanner = try #require(diff.file("src/Scanner.swift"))
        #expect(scanner.status == .renamed)
        #expect(scanner.oldPath == "src/Lexer.swift")
        #expect((scanner.similarity ?? 0) >= 50 && (scanner.similarity ?? 0) < 100)
        let manual = try #require(diff.file("docs/manual.txt"))
        #expect(manual.status == .renamed && manual.similarity == 100 && manual.hunks.isEmpty)

        let image = try #require(diff.file("image.bin"))
        #expect(image.isBinary && image.hunks.isEmpty && image.status == .modified)
        #expect(try #require(diff.file("new-image.bin")).status == .added)

        let script = try #require(diff.file("script.sh"))
        #expect(script.modeChanged && script.oldMode == .regular && script.newMode == .executable)
        #expect(script.hunks.isEmpty)

        let submodule = try #require(diff.file("vendor/lib"))
        #expect(submodule.oldMode == .gitlink && submodule.newID?.hex == String(repeating: "2", count: 40))

        let empty = try #require(diff.file("new-empty.txt"))
        #expect(empty.status == .added && empty.hunks.isEmpty && !empty.isBinary)

        let latin1 = try #require(diff.file(GitPath(bytes: SampleRepository.latin1Path)))
        #expect(latin1.path.string == nil, "the path is not UTF-8")
        #expect(latin1.addedLineNumbers == [2])

        // A file that became a symlink is a deletion and an addition, as git diff prints it.
        #expect(diff.files.filter { $0.path == "becomes-link" }.map(\.status) == [.deleted, .added])
        #expect(diff.file("deleted.txt")?.status == .deleted)
        #expect(diff.file("deleted.txt")?.newPath == nil)
    }

    @Test("indent heuristic places the added function as git does")
    func indentHeuristic() throws {
        let sample = try SampleRepository.make()
        defer { sample.repository.remove() }
        let repository = try Repository(at: sample.repository.url)
        let file = try #require(try repository.diff(from: sample.base, to: sample.head).file("functions.swift"))
        #expect(file.addedLineNumbers == [4, 5, 6, 7])
        var plain = DiffOptions()
        plain.indentHeuristic = false
        let without = try #require(try repository.diff(from: sample.base, to: sample.head, options: plain)
            .file("functions.swift"))
        #expect(without.addedLineNumbers == [5, 6, 7, 8], "the heuristic must change this case")
        // Both placements are git's own: compare with the CLI run each way.
        for (ours, flag) in [(file, "--indent-heuristic"), (without, "--no-indent-heuristic")] {
            let reference = try GitCLIDiff.reference(
                in: sample.repository.url, base: sample.base, head: sample.head, context: 3,
                extraArguments: [flag, "--", "functions.swift"]
            )
            #expect(reference.count == 1)
            #expect(reference.first.map { DiffTests.converted(ours).lines == $0.lines } == true, "\(flag)")
        }
    }

    @Test("a root commit diffs against the empty tree")
    func rootCommit() throws {
        let sample = try SampleRepository.make()
        defer { sample.repository.remove() }
        let diff = try Repository(at: sample.repository.url).diff(from: nil, to: sample.base)
        #expect(diff.files.allSatisfy { $0.status == .added })
        #expect(diff.files.count == SampleRepository.baseEntries().count)
        #expect(diff.file("README.md")?.addedLineNumbers == [1, 2, 3, 4])
    }

    @Test("path filters select the same files as git diff -- PATHSPEC")
    func pathFilter() throws {
        let sample = try SampleRepository.make()
        defer { sample.repository.remove() }
        var options = DiffOptions(contextLines: 0)
        options.paths = ["docs", "*.sh"]
        let ours = try Repository(at: sample.repository.url).diff(from: sample.base, to: sample.head, options: options)
        let reference = try GitCLIDiff.reference(
            in: sample.repository.url, base: sample.base, head: sample.head, context: 0,
            extraArguments: ["--", "docs", "*.sh"]
        )
        #expect(Set(ours.files.map(\.path.description)) == ["docs/manual.txt", "script.sh", "tool.sh"])
        Self.expectSameAsGit(ours, reference)
    }
}
