import Foundation
import Git
import Testing
import TestSupport

@Suite("Opening, revisions and commit metadata")
struct RepositoryTests {
    /// Four commits on main, a lightweight tag, an annotated tag and a remote-tracking ref.
    static func history() throws -> (GitRepository, [String]) {
        let repository = try GitRepository()
        var ids: [String] = []
        for number in 1...4 {
            ids.append(try repository.commit(
                [.file("count.txt", "\(number)\n")], message: "Commit \(number)\n\nBody of \(number).\n"
            ))
        }
        try repository.git(["tag", "v1", ids[1]])
        try repository.git(["tag", "-a", "v2", "-m", "annotated", ids[2]])
        try repository.git(["update-ref", "refs/remotes/origin/main", ids[0]])
        return (repository, ids)
    }

    @Test("opens a work tree and a bare repository")
    func open() throws {
        let (work, _) = try Self.history()
        defer { work.remove() }
        let repository = try Repository(at: work.url)
        #expect(!repository.isBare && !repository.isShallow)
        #expect(repository.workingDirectory?.standardizedFileURL.path == work.url.standardizedFileURL.path)

        let bare = try GitRepository(bare: true)
        defer { bare.remove() }
        let id = try bare.commit([.file("a", "a\n")])
        let opened = try Repository(at: bare.url)
        #expect(opened.isBare && opened.workingDirectory == nil)
        #expect(try opened.resolve("HEAD").hex == id)
    }

    @Test(
        "rev-parse agrees with git",
        arguments: ["HEAD", "HEAD~2", "main^", "HEAD^^^", "origin/main", "v1", "v2", "refs/tags/v2", "main@{0}"]
    )
    func revParse(revision: String) throws {
        let (work, _) = try Self.history()
        defer { work.remove() }
        let expected = try #require(try work.revParse(revision + "^{commit}"))
        #expect(try Repository(at: work.url).resolve(revision).hex == expected)
    }

    @Test("short SHAs resolve; an ambiguous one is reported as such")
    func shortSHA() throws {
        let (work, ids) = try Self.history()
        defer { work.remove() }
        let repository = try Repository(at: work.url)
        for id in ids { #expect(try repository.resolve(String(id.prefix(7))).hex == id) }

        // 1,500 blobs make two objects sharing their first 4 hex digits all but certain (and the contents are
        // fixed, so the same pair every run).
        try work.commit((0..<1500).map { .file("many/\($0).txt", "content \($0)\n") })
        let objects = try work.gitText(["rev-list", "--objects", "--all"]).split(separator: "\n")
            .compactMap { $0.split(separator: " ").first.map { String($0.prefix(4)) } }
        var seen = Set<String>()
        let shared = try #require(objects.first { !seen.insert($0).inserted })
        #expect(try work.revParse(shared) == nil, "git finds '\(shared)' ambiguous too")
        let error = try #require(throws: GitError.self) { try repository.resolve(shared) }
        #expect(error.kind == .ambiguous && error.description.contains("'\(shared)'"), "\(error)")
    }

    @Test("commit metadata equals git log's")
    func metadata() throws {
        let (work, ids) = try Self.history()
        defer { work.remove() }
        let commit = try Repository(at: work.url).commit("HEAD~1")
        let fields = try work.gitText(["log", "-1", "--format=%H%n%T%n%P%n%an%n%ae%n%at%n%cn%n%ce%n%ct%n%s", "HEAD~1"])
            .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(commit.id.hex == fields[0] && commit.id.hex == ids[2])
        #expect(commit.treeID.hex == fields[1])
        #expect(commit.parentIDs.map(\.hex) == [fields[2]])
        #expect(commit.author.name == fields[3] && commit.author.email == fields[4])
        #expect(Int(commit.author.date.timeIntervalSince1970) == Int(fields[5]))
        #expect(commit.author.timeZoneOffsetMinutes == 60)
        #expect(commit.committer.name == fields[6] && commit.committer.email == fields[7])
        #expect(Int(commit.committer.date.timeIntervalSince1970) == Int(fields[8]))
        #expect(commit.summary == fields[9])
        #expect(commit.message == (try work.gitText(["log", "-1", "--format=%B", "HEAD~1"])) + "\n")
        #expect(commit.body == "Body of 3.", "libgit2 trims the body's trailing newline")
        #expect(try Repository(at: work.url).commit(ids[0]).parentIDs.isEmpty)
    }

    @Test("one repository used from many tasks at once gives the same answers")
    func concurrentUse() async throws {
        let sample = try SampleRepository.make()
        defer { sample.repository.remove() }
        let repository = try Repository(at: sample.repository.url)
        let expected = try repository.diff(from: sample.base, to: sample.head)
        let results = await withTaskGroup(of: Diff?.self) { group in
            for _ in 0..<8 {
                group.addTask { try? repository.diff(from: sample.base, to: sample.head) }
            }
            var all: [Diff?] = []
            for await result in group { all.append(result) }
            return all
        }
        #expect(results.count == 8)
        #expect(results.allSatisfy { $0 == expected })
    }
}
