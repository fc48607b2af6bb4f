import Foundation
import Git
import Testing
import TestSupport

@Suite("Bad input gives a clear error naming what was asked")
struct BadInputTests {
    @Test("a directory that is not a repository, and a missing path")
    func notARepository() throws {
        let directory = try TemporaryDirectory(prefix: "sparrow-not-git")
        defer { directory.remove() }
        for url in [directory.url, directory.url.appendingPathComponent("missing")] {
            let error = try #require(throws: GitError.self) { try Repository(at: url) }
            #expect(error.kind == .notARepository)
            #expect(error.description.contains(url.path), "\(error)")
        }
    }

    @Test("an unknown revision, a malformed one, and a tree where a commit is expected")
    func unknownRevision() throws {
        let work = try GitRepository()
        defer { work.remove() }
        try work.commit([.file("a.txt", "a\n")])
        let repository = try Repository(at: work.url)
        let unknown = try #require(throws: GitError.self) { try repository.resolve("no-such-branch") }
        #expect(unknown.kind == .notFound)
        #expect(unknown.description.contains("'no-such-branch'"), "\(unknown)")
        let tooFar = try #require(throws: GitError.self) { try repository.diff(from: "HEAD~5", to: "HEAD") }
        #expect(tooFar.kind == .notFound && tooFar.description.contains("'HEAD~5'"), "\(tooFar)")
        let tree = try #require(throws: GitError.self) { try repository.resolve("HEAD^{tree}") }
        #expect(tree.kind == .wrongType && tree.message.contains("tree"), "\(tree)")
        let malformed = try #require(throws: GitError.self) { try repository.resolve("HEAD@{") }
        #expect(malformed.description.contains("'HEAD@{'"), "\(malformed)")
    }

    @Test("a shallow clone missing the base commit")
    func shallowClone() throws {
        let source = try GitRepository()
        defer { source.remove() }
        let base = try source.commit([.file("a.txt", "one\n")])
        try source.commit([.file("a.txt", "two\n")])
        let clone = try TemporaryDirectory(prefix: "sparrow-shallow")
        defer { clone.remove() }
        let result = try GitRepository.runGit(
            ["clone", "-q", "--depth", "1", "file://" + source.url.path, clone.url.path], in: source.url
        )
        #expect(result.status == 0, "\(String(decoding: result.error, as: UTF8.self))")
        let repository = try Repository(at: clone.url)
        #expect(repository.isShallow)
        #expect(try repository.diff(from: nil, to: "HEAD").files.count == 1)
        for revision in [base, "HEAD~1"] {
            let error = try #require(throws: GitError.self) { try repository.diff(from: revision, to: "HEAD") }
            #expect(error.kind == .beyondShallowBoundary, "\(error)")
            #expect(error.description.contains("'\(revision)'") && error.message.contains("shallow"), "\(error)")
        }
    }

    @Test("a corrupt object")
    func corruptObject() throws {
        let work = try GitRepository()
        defer { work.remove() }
        try work.commit([.file("data.txt", "precious content\n"), .file("other.txt", "fine\n")])
        let blob = try #require(try work.revParse("HEAD:data.txt"))
        let object = work.url.appendingPathComponent(".git/objects/\(blob.prefix(2))/\(blob.dropFirst(2))")
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: object.path)
        try Data("this is not a zlib stream".utf8).write(to: object)
        let repository = try Repository(at: work.url)
        #expect(try repository.blob(at: "other.txt", in: "HEAD").text == "fine\n")
        let error = try #require(throws: GitError.self) { try repository.blob(at: "data.txt", in: "HEAD") }
        #expect(error.kind == .corruptObject, "\(error)")
        #expect(error.description.contains("'data.txt'") && error.description.contains("'HEAD'"), "\(error)")
    }

    @Test("a missing path, a directory, a submodule and a blob over the size limit")
    func badBlobRequests() throws {
        let sample = try SampleRepository.make()
        defer { sample.repository.remove() }
        let repository = try Repository(at: sample.repository.url)
        let missing = try #require(throws: GitError.self) { try repository.blob(at: "nope.txt", in: "HEAD") }
        #expect(missing.kind == .notFound && missing.description.contains("'nope.txt'"), "\(missing)")
        let directory = try #require(throws: GitError.self) { try repository.blob(at: "src", in: "HEAD") }
        #expect(directory.kind == .wrongType && directory.message.contains("directory"), "\(directory)")
        let submodule = try #require(throws: GitError.self) { try repository.blob(at: "vendor/lib", in: "HEAD") }
        #expect(submodule.kind == .wrongType && submodule.message.contains("submodule"), "\(submodule)")
        let big = try #require(throws: GitError.self) {
            try repository.blob(at: "big.txt", in: "HEAD", sizeLimit: 1_000_000)
        }
        #expect(big.kind == .tooLarge && big.message.contains("1000000"), "\(big)")
    }

    @Test("a repository owned by another user names safe.directory", .enabled(if: getuid() == 0, "needs root to chown"))
    func untrustedOwner() throws {
        let work = try GitRepository()
        defer { work.remove() }
        try work.commit([.file("a.txt", "a\n")])
        #expect(chown(work.url.path, 65534, 65534) == 0)
        let error = try #require(throws: GitError.self) { try Repository(at: work.url) }
        #expect(error.kind == .untrustedOwner, "\(error)")
        #expect(error.message.contains("safe.directory") && error.description.contains(work.url.path), "\(error)")
    }
}
