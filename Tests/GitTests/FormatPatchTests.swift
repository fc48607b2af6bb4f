import Foundation
import Git
import Testing
import TestSupport

@Suite("format-patch mail")
struct FormatPatchTests {
    @Test("git am recreates the commit's tree, author and subject; headers match git format-patch")
    func amRoundTrip() throws {
        let sample = try SampleRepository.make()
        defer { sample.repository.remove() }
        let git = sample.repository
        let mail = try Repository(at: git.url).formatPatch(sample.head)
        let reference = try git.git(["format-patch", "-1", "--stdout", sample.head])
        let ourLines = String(decoding: mail, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        let gitLines = String(decoding: reference, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(ourLines.first == gitLines.first, "the mbox From line")
        for header in ["From: ", "Subject: "] {
            #expect(ourLines.first { $0.hasPrefix(header) } == gitLines.first { $0.hasPrefix(header) }, "\(header)")
        }

        // Apply with git am on a branch at the parent, in the same repository.
        try git.git(["checkout", "-q", "-f", "-b", "am-test", sample.base])
        let result = try git.run(["am", "-q", "--keep-cr"], input: mail)
        #expect(result.status == 0, "\(String(decoding: result.error, as: UTF8.self))")
        #expect(try git.revParse("HEAD^{tree}") == (try git.revParse(sample.head + "^{tree}")))
        #expect(try git.gitText(["log", "-1", "--format=%an <%ae>|%at|%s"])
            == (try git.gitText(["log", "-1", "--format=%an <%ae>|%at|%s", sample.head])))
    }

    @Test("a merge commit is refused")
    func merge() throws {
        let work = try GitRepository()
        defer { work.remove() }
        let one = try work.commit([.file("a", "1\n")])
        let two = try work.commit([.file("a", "2\n")], branch: "side", parents: [one])
        try work.commit([.file("a", "3\n")], parents: [one, two])
        let error = try #require(throws: GitError.self) { try Repository(at: work.url).formatPatch("main") }
        #expect(error.kind == .wrongType && error.message.contains("merge"))
    }
}
