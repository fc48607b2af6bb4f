import Foundation
import Git
import Testing
import TestSupport

@Suite("Writing a commit on a new reference")
struct WriteCommitTests {
    @Test("apply, commit on a new ref; work tree, index and HEAD untouched")
    func commitOnNewRef() throws {
        let sample = try SampleRepository.make()
        defer { sample.repository.remove() }
        let git = sample.repository
        try git.git(["checkout", "-q", "-f", "main"])
        let headBefore = try git.revParse("HEAD")
        let statusBefore = try git.git(["status", "--porcelain", "--ignore-submodules=none"])
        let indexBefore = try Data(contentsOf: git.url.appendingPathComponent(".git/index"))

        let repository = try Repository(at: git.url)
        let patch = try git.git(["diff", "--binary", sample.head, sample.base])
        let tree = try repository.applyPatch(patch, to: sample.head)
        let author = Signature(
            name: "Sparrow", email: "sparrow@example.com", date: Date(timeIntervalSince1970: 1_750_000_000),
            timeZoneOffsetMinutes: -300
        )
        let id = try repository.createCommit(
            tree: tree, parents: [try repository.resolve(sample.head)], message: "Revert to base\n\nBy patch.\n",
            author: author, reference: "refs/sparrow/revert"
        )
        // git reads what we wrote.
        #expect(try git.revParse("refs/sparrow/revert") == id.hex)
        #expect(try git.revParse("refs/sparrow/revert^{tree}") == (try git.revParse(sample.base + "^{tree}")))
        #expect(try git.gitText(["log", "-1", "--format=%P|%an|%ae|%at|%ai|%s", "refs/sparrow/revert"])
            == "\(sample.head)|Sparrow|sparrow@example.com|1750000000|2025-06-15 10:06:40 -0500|Revert to base")
        #expect(try git.run(["fsck", "--no-progress", "--strict"]).status == 0)
        // Nothing of the user's moved.
        #expect(try git.revParse("HEAD") == headBefore)
        #expect(try git.git(["status", "--porcelain", "--ignore-submodules=none"]) == statusBefore)
        #expect(try Data(contentsOf: git.url.appendingPathComponent(".git/index")) == indexBefore)

        let again = try #require(throws: GitError.self) {
            try repository.createCommit(
                tree: tree, parents: [], message: "x", author: author, reference: "refs/sparrow/revert"
            )
        }
        #expect(again.kind == .alreadyExists && again.description.contains("refs/sparrow/revert"), "\(again)")
        let invalid = try #require(throws: GitError.self) {
            try repository.createCommit(tree: tree, parents: [], message: "x", author: author, reference: "refs/a..b")
        }
        #expect(invalid.kind == .invalidSpec && invalid.description.contains("refs/a..b"), "\(invalid)")
        #expect(try git.revParse("refs/sparrow/revert") == id.hex, "a refused commit leaves the ref alone")

        // Without a reference: the commit exists as an object, and no reference was added.
        let refsBefore = try git.gitText(["for-each-ref", "--format=%(refname) %(objectname)"])
        let loose = try repository.createCommit(tree: tree, parents: [id], message: "Loose\n", author: author, reference: nil)
        #expect(try git.gitText(["cat-file", "-t", loose.hex]) == "commit")
        #expect(try git.revParse(loose.hex + "^") == id.hex)
        #expect(try git.gitText(["for-each-ref", "--format=%(refname) %(objectname)"]) == refsBefore)
    }
}
