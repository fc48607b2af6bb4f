import Foundation
import Git
import Testing
import TestSupport

@Suite("Applying a patch to a tree in memory")
struct ApplyPatchTests {
    @Test("a patch from git diff --binary reproduces the head tree exactly")
    func reproducesTree() throws {
        let sample = try SampleRepository.make()
        defer { sample.repository.remove() }
        let patch = try sample.repository.git(["diff", "--binary", sample.base, sample.head])
        let tree = try Repository(at: sample.repository.url).applyPatch(patch, to: sample.base)
        #expect(tree.hex == (try sample.repository.revParse(sample.head + "^{tree}")))
    }

    @Test("a plain git diff (no binary files) reproduces the tree; -U0 and -U1 patches too", arguments: [3, 1])
    func textOnly(context: Int) throws {
        let work = try GitRepository()
        defer { work.remove() }
        let base = try work.commit([
            .file("a.txt", (1...50).map { "line \($0)" }.joined(separator: "\n") + "\n"),
            .file("crlf.txt", "x\r\ny\r\n"), .file("gone.txt", "bye\n"), .file("mode.sh", "echo\n"),
        ])
        var lines = (1...50).map { "line \($0)" }
        lines[2] = "changed 3"
        lines[40] = "changed 41"
        let head = try work.commit([
            .file("a.txt", lines.joined(separator: "\n") + "\n"), .file("crlf.txt", "x\r\nz\r\n"),
            .file("mode.sh", "echo\n", executable: true), .file("new/file.txt", "hello"),
        ])
        let patch = try work.git(["diff", "-U\(context)", base, head])
        let tree = try Repository(at: work.url).applyPatch(patch, to: base)
        #expect(tree.hex == (try work.revParse(head + "^{tree}")))
    }

    @Test("a format-patch mail applies too (headers before the diff are skipped)")
    func mail() throws {
        let sample = try SampleRepository.make()
        defer { sample.repository.remove() }
        let mail = try sample.repository.git(["format-patch", "-1", "--stdout", "--binary", sample.head])
        let tree = try Repository(at: sample.repository.url).applyPatch(mail, to: sample.base)
        #expect(tree.hex == (try sample.repository.revParse(sample.head + "^{tree}")))
    }

    /// base: a 40-line file; ours edits lines 3 and 30 (two hunks); theirs edits line 30 differently.
    static func staleSetup() throws -> (GitRepository, patch: Data, theirs: String) {
        let work = try GitRepository()
        var lines = (1...40).map { "line \($0)" }
        let base = try work.commit([.file("README.md", lines.joined(separator: "\n") + "\n"), .file("other.txt", "o\n")])
        var ours = lines
        ours[2] = "ours 3"
        ours[29] = "ours 30"
        let head = try work.commit([.file("README.md", ours.joined(separator: "\n") + "\n"), .file("other.txt", "o2\n")])
        lines[29] = "theirs 30"
        let theirs = try work.commit(
            [.file("README.md", lines.joined(separator: "\n") + "\n"), .file("other.txt", "o\n")],
            branch: "theirs", parents: [base]
        )
        return (work, try work.git(["diff", base, head]), theirs)
    }

    @Test("a stale hunk fails naming the file and the hunk")
    func staleHunk() throws {
        let (work, patch, theirs) = try Self.staleSetup()
        defer { work.remove() }
        // git itself refuses it (the reference), at the same hunk.
        let check = try work.run(["apply", "--check", "--cached"], input: patch)
        #expect(check.status != 0)
        let error = try #require(throws: GitError.self) { try Repository(at: work.url).applyPatch(patch, to: theirs) }
        #expect(error.kind == .patchFailed)
        #expect(error.patchFailure?.path == "README.md")
        #expect(error.patchFailure?.hunk == 2)
        #expect(error.patchFailure?.hunkHeader?.hasPrefix("@@ -27,7 +27,7 @@") == true, "\(error)")
        #expect(error.description.contains("README.md") && error.description.contains("hunk 2"), "\(error)")
        #expect(error.description.contains("'\(theirs)'"), "\(error)")
    }

    @Test("a patch for a file the tree lacks names the file; text that is no patch is refused")
    func missingFileAndGarbage() throws {
        let (work, patch, _) = try Self.staleSetup()
        defer { work.remove() }
        let other = try work.commit([.file("unrelated.txt", "u\n")], branch: "other", parents: [])
        let repository = try Repository(at: work.url)
        let missing = try #require(throws: GitError.self) { try repository.applyPatch(patch, to: other) }
        #expect(missing.kind == .patchFailed && missing.description.contains("README.md"), "\(missing)")
        let garbage = try #require(throws: GitError.self) {
            try repository.applyPatch(Data("just some words\n".utf8), to: "HEAD")
        }
        #expect(garbage.kind == .patchFailed && garbage.message.contains("diff --git"), "\(garbage)")
    }

    @Test("empty files added and deleted, last in the patch too (libgit2 1.5 parser workaround)")
    func emptyFiles() throws {
        let work = try GitRepository()
        defer { work.remove() }
        let base = try work.commit([.file("a.txt", "a\n"), .file("empty.txt", "")])
        let head = try work.commit([.file("a.txt", "b\n"), .file("b-empty.txt", ""), .file("z-empty.txt", "")])
        let patch = try work.git(["diff", base, head])
        #expect(String(decoding: patch, as: UTF8.self).hasSuffix("index 0000000..e69de29\n"), "an empty file ends it")
        let tree = try Repository(at: work.url).applyPatch(patch, to: base)
        #expect(tree.hex == (try work.revParse(head + "^{tree}")))
    }

    @Test("a hunk whose lines moved is refused at its stated place (libgit2 1.5 does not search for offsets)")
    func movedContext() throws {
        let work = try GitRepository()
        defer { work.remove() }
        let lines = (1...30).map { "line \($0)" }
        let base = try work.commit([.file("f.txt", lines.joined(separator: "\n") + "\n")])
        var edited = lines
        edited[20] = "edited 21"
        let head = try work.commit([.file("f.txt", edited.joined(separator: "\n") + "\n")])
        let shifted = try work.commit(
            [.file("f.txt", (["new 1", "new 2", "new 3"] + lines).joined(separator: "\n") + "\n")],
            branch: "shifted", parents: [base]
        )
        let patch = try work.git(["diff", base, head])
        let error = try #require(throws: GitError.self) { try Repository(at: work.url).applyPatch(patch, to: shifted) }
        #expect(error.patchFailure == PatchFailure(path: "f.txt", hunk: 1, hunkHeader: "@@ -18,7 +18,7 @@ line 17"))
    }
}
