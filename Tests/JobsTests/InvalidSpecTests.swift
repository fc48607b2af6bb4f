import Foundation
import Jobs
import Testing

/// Every malformed spec under `Fixtures/invalid/` ends with `# expect: LINE:COLUMN: MESSAGE` comments: the exact,
/// complete list of errors it must produce (in file order).
@Suite struct InvalidSpecTests {
    @Test func thereAreAtLeastThirtyMalformedSpecs() {
        #expect(Fixtures.invalidSpecNames().count >= 30)
    }

    @Test(arguments: Fixtures.invalidSpecNames())
    func reportsExactlyTheExpectedErrors(name: String) throws {
        let url = Fixtures.directory.appendingPathComponent("invalid/\(name).yaml")
        let bytes = try [UInt8](Data(contentsOf: url))
        let expected = String(decoding: bytes, as: UTF8.self).split(separator: "\n")
            .filter { $0.hasPrefix("# expect: ") }
            .map { String($0.dropFirst("# expect: ".count)) }
        #expect(!expected.isEmpty, "\(name).yaml has no `# expect:` lines")
        do {
            _ = try SpecLoader.decode(bytes, file: "\(name).yaml", baseDirectory: "/")
            Issue.record("\(name).yaml was accepted; expected \(expected)")
        } catch {
            let actual = error.diagnostics.map { "\($0.location): \($0.message)" }
            #expect(actual == expected)
            #expect(error.diagnostics.allSatisfy { $0.file == "\(name).yaml" })
        }
    }

    @Test func threeIndependentMistakesAreReportedTogether() throws {
        let text = """
        version: 1
        model: {path: m.gguf, threads: many}
        tasks:
          - {id: a, kind: review, filter: everything}
        outputs: {fail_on: sometimes}
        """
        #expect(throws: SpecError.self) { try SpecLoader.decode(Array(text.utf8), file: "three.yaml", baseDirectory: "/") }
        do {
            _ = try SpecLoader.decode(Array(text.utf8), file: "three.yaml", baseDirectory: "/")
        } catch {
            #expect(error.diagnostics.map(\.location) == [
                SourceLocation(line: 2, column: 32), SourceLocation(line: 4, column: 35), SourceLocation(line: 5, column: 20),
            ])
            #expect(error.description.split(separator: "\n").count == 3)
            #expect(error.description.hasPrefix("three.yaml:2:32: error: model.threads: expected an integer"))
        }
    }
}
