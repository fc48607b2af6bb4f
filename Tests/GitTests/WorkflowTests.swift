import Foundation
import Git
import Testing
import TestSupport

/// The path a patch task takes through the module: check out `at`, edit, write the tree, diff it, commit it on
/// a new ref, and hand out a format-patch mail that applies to `at` with git am and with `applyPatch`.
@Suite("Patch-task workflow")
struct WorkflowTests {
    @Test("checkout, edit, tree, diff, commit on a new ref, mail; git am and applyPatch agree")
    func patchTask() throws {
        let sample = try SampleRepository.make()
        defer { sample.repository.remove() }
        let git = sample.repository
        let repository = try Repository(at: git.url)
        let checkout = try repository.checkout(sample.head)
        defer { try? checkout.remove() }
        var readme = try Data(contentsOf: checkout.directory.appendingPathComponent("README.md"))
        readme.append(Data("Added by the model.\n".utf8))
        try readme.write(to: checkout.directory.appendingPathComponent("README.md"))
        try Data("print(1)\n".utf8).write(to: checkout.directory.appendingPathComponent("src/New.swift"))

        let tree = try repository.writeTree(from: checkout.directory, base: sample.head)
        let diff = try repository.diff(from: sample.head, to: tree.hex)
        #expect(diff.files.map(\.path) == ["README.md", "src/New.swift"])
        #expect(diff.file("README.md")?.addedLineNumbers == [6])
        #expect(diff.file("src/New.swift")?.status == .added)

        let author = Signature(name: "Sparrow", email: "sparrow@example.com", date: Date(timeIntervalSince1970: 1_760_000_000))
        let commit = try repository.createCommit(
            tree: tree, parents: [try repository.resolve(sample.head)], message: "Add a line\n", author: author,
            reference: "refs/sparrow/patch-task"
        )
        #expect(try repository.diff(from: sample.head, to: commit.hex) == diff, "a tree and its commit diff alike")
        let mail = try repository.formatPatch(commit.hex)
        #expect(try repository.applyPatch(mail, to: sample.head) == tree)

        try git.git(["checkout", "-q", "-f", "-b", "apply-here", sample.head])
        let result = try git.run(["am", "-q"], input: mail)
        #expect(result.status == 0, "\(String(decoding: result.error, as: UTF8.self))")
        #expect(try git.revParse("HEAD^{tree}") == tree.hex)
    }

    @Test("a blob id is neither a commit nor a tree")
    func blobIsNotATree() throws {
        let sample = try SampleRepository.make()
        defer { sample.repository.remove() }
        let blob = try Repository(at: sample.repository.url).blob(at: "README.md", in: "HEAD").id
        let error = try #require(throws: GitError.self) {
            try Repository(at: sample.repository.url).diff(from: "HEAD", to: blob.hex)
        }
        #expect(error.kind == .wrongType && error.message.contains("blob"), "\(error)")
    }
}
