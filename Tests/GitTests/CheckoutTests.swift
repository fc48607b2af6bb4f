import Foundation
import Git
import Testing
import TestSupport

@Suite("Materialising a commit into a temporary directory")
struct CheckoutTests {
    @Test("files, modes and symlinks as stored; round trip gives the same tree; the user's checkout untouched")
    func materialise() throws {
        let sample = try SampleRepository.make()
        defer { sample.repository.remove() }
        let git = sample.repository
        try git.git(["checkout", "-q", "-f", "main"])
        let statusBefore = try git.git(["status", "--porcelain", "--ignore-submodules=none"])
        let indexBefore = try Data(contentsOf: git.url.appendingPathComponent(".git/index"))
        let repository = try Repository(at: git.url)

        let checkout = try repository.checkout(sample.base)
        defer { try? checkout.remove() }
        #expect(checkout.commitID.hex == sample.base)
        let root = checkout.directory
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent(".git").path))
        for (path, entry) in try git.listTree(sample.base) where entry.mode != "160000" {
            let file = GitPath(bytes: path).description
            let url = root.appendingPathComponent(file)
            if entry.mode == "120000" {
                let target = try FileManager.default.destinationOfSymbolicLink(atPath: url.path)
                #expect(Data(target.utf8) == (try git.git(["cat-file", "blob", entry.id])), "\(file)")
            } else if GitPath(bytes: path).string != nil {
                #expect(try Data(contentsOf: url) == (try git.git(["cat-file", "blob", entry.id])), "\(file)")
                let executable = FileManager.default.isExecutableFile(atPath: url.path)
                #expect(executable == (entry.mode == "100755"), "\(file)")
            }
        }
        // The whole directory, non-UTF-8 name included, writes back to the very same tree.
        #expect(try repository.writeTree(from: root, base: sample.base).hex == (try git.revParse(sample.base + "^{tree}")))

        #expect(try git.git(["status", "--porcelain", "--ignore-submodules=none"]) == statusBefore)
        #expect(try Data(contentsOf: git.url.appendingPathComponent(".git/index")) == indexBefore)
        try checkout.remove()
        #expect(!FileManager.default.fileExists(atPath: root.path))
    }

    @Test("edits in the checkout become a tree equal to git add -A's")
    func editsToTree() throws {
        let sample = try SampleRepository.make()
        defer { sample.repository.remove() }
        let git = sample.repository
        let repository = try Repository(at: git.url)
        let checkout = try repository.checkout(sample.head)
        defer { try? checkout.remove() }
        let root = checkout.directory
        try Data("# Edited\n".utf8).write(to: root.appendingPathComponent("README.md"))
        try FileManager.default.removeItem(at: root.appendingPathComponent("crlf.txt"))
        try FileManager.default.createDirectory(at: root.appendingPathComponent("added/dir"), withIntermediateDirectories: true)
        try Data("new\n".utf8).write(to: root.appendingPathComponent("added/dir/file.txt"))
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: root.appendingPathComponent("tool.sh").path)
        let ours = try repository.writeTree(from: root, base: sample.head)

        // The reference: git's own index over the same directory, starting from head.
        let index = root.deletingLastPathComponent().appendingPathComponent("sparrow-index-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: index) }
        let common = ["--git-dir=\(git.url.path)/.git", "--work-tree=\(root.path)"]
        func withIndex(_ arguments: [String]) throws -> Data {
            let git = try GitRepository.runGit(common + arguments, in: root, extraEnvironment: ["GIT_INDEX_FILE": index.path])
            #expect(git.status == 0, "git \(arguments): \(String(decoding: git.error, as: UTF8.self))")
            return git.output
        }
        _ = try withIndex(["read-tree", sample.head])
        _ = try withIndex(["add", "-A", "."])
        let expected = String(decoding: try withIndex(["write-tree"]), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(ours.hex == expected)
    }

    @Test("a bare repository can be materialised; an unknown revision leaves no directory behind")
    func bare() throws {
        let bare = try GitRepository(bare: true)
        defer { bare.remove() }
        try bare.commit([.file("a/b.txt", "b\n"), .file("run", "#!/bin/sh\n", executable: true)])
        let repository = try Repository(at: bare.url)
        let parent = try TemporaryDirectory(prefix: "sparrow-checkouts")
        defer { parent.remove() }
        let checkout = try repository.checkout("HEAD", under: parent.url)
        defer { try? checkout.remove() }
        #expect(try String(contentsOf: checkout.directory.appendingPathComponent("a/b.txt"), encoding: .utf8) == "b\n")
        #expect(FileManager.default.isExecutableFile(atPath: checkout.directory.appendingPathComponent("run").path))
        try checkout.remove()
        let error = try #require(throws: GitError.self) { try repository.checkout("nope", under: parent.url) }
        #expect(error.description.contains("'nope'"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: parent.url.path).isEmpty)
    }
}
