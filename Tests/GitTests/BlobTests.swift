import Foundation
import Git
import Testing
import TestSupport

@Suite("File content at a commit")
struct BlobTests {
    @Test("bytes equal git cat-file's for text, CRLF, binary, empty, symlink and non-UTF-8 files")
    func contents() throws {
        let sample = try SampleRepository.make()
        defer { sample.repository.remove() }
        let repository = try Repository(at: sample.repository.url)
        let paths: [GitPath] = [
            "README.md", "crlf.txt", "image.bin", "new-empty.txt", "current", "big.txt", "no-newline.txt",
            GitPath(bytes: SampleRepository.latin1Path),
        ]
        let tree = try sample.repository.listTree(sample.head)
        // git's own binary test (a NUL in the first 8,000 bytes), via `git diff --numstat`: "-\t-\t" for binary.
        var binary: [[UInt8]: Bool] = [:]
        for record in try sample.repository.git(["diff", "--numstat", "-z", GitRepository.emptyTree, sample.head])
            .split(separator: 0) {
            let fields = record.split(separator: UInt8(ascii: "\t"), maxSplits: 2)
            if fields.count == 3 { binary[Array(fields[2])] = fields[0].elementsEqual("-".utf8) }
        }
        for path in paths {
            let blob = try repository.blob(at: path, in: sample.head)
            let id = try #require(tree[path.bytes]?.id, "\(path)")
            #expect(blob.id.hex == id, "\(path)")
            let expected = try sample.repository.git(["cat-file", "blob", id])
            #expect(blob.data == expected, "\(path)")
            #expect(blob.isBinary == binary[path.bytes], "\(path)")
        }
        #expect(try repository.blob(at: "script.sh", in: sample.head).mode == .executable)
        #expect(try repository.blob(at: "current", in: sample.head).mode == .symlink)
        #expect(try repository.blob(at: "crlf.txt", in: sample.head).text == "one\r\nTWO\r\nthree\r\nfour\r\nfive\r\n")
        #expect(try repository.blob(at: "image.bin", in: sample.head).text == nil)
        #expect(try repository.blob(at: "README.md", in: sample.base).text == "# Sample\n\nLine three.\nLine four.\n")
    }
}
