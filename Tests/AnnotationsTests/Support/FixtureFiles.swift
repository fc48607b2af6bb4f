import Foundation
import Testing

/// Committed fixtures and golden files beside the tests (Tests/AnnotationsTests/Fixtures, see its README).
enum FixtureFiles {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures", isDirectory: true)

    static var sarifSchema: URL { directory.appendingPathComponent("sarif-schema-2.1.0.json") }
    static var diagnosticSchema: URL { directory.appendingPathComponent("reviewdog-rdf-jsonschema/Diagnostic.json") }

    /// True when the run regenerates golden files (`SPARROW_UPDATE_GOLDEN=1 swift test --filter AnnotationsTests`).
    static var updatingGoldens: Bool { ProcessInfo.processInfo.environment["SPARROW_UPDATE_GOLDEN"] == "1" }

    /// Compares `text` with the golden file `golden/<name>`, or rewrites it in update mode.
    static func expectGolden(_ text: String, named name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let url = directory.appendingPathComponent("golden/\(name)")
        if updatingGoldens {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
            return
        }
        guard let data = FileManager.default.contents(atPath: url.path) else {
            Issue.record(
                "golden file \(url.path) is missing; regenerate with SPARROW_UPDATE_GOLDEN=1 swift test --filter AnnotationsTests",
                sourceLocation: sourceLocation)
            return
        }
        let expected = String(decoding: data, as: UTF8.self)
        if expected != text || Data(text.utf8) != data {
            let got = text.split(separator: "\n", omittingEmptySubsequences: false)
            let want = expected.split(separator: "\n", omittingEmptySubsequences: false)
            let line = zip(got, want).enumerated().first { !$0.element.0.utf8.elementsEqual($0.element.1.utf8) }?.offset
                ?? min(got.count, want.count)
            let gotLine = line < got.count ? String(got[line]) : "<end>"
            let wantLine = line < want.count ? String(want[line]) : "<end>"
            Issue.record(
                "\(name) differs from its golden file at line \(line + 1):\n  got:      \(gotLine)\n  expected: \(wantLine)",
                sourceLocation: sourceLocation)
        }
    }
}
