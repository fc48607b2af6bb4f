import Foundation
import TestSupport
import Testing

@testable import Annotations

@Suite struct SARIFWriterTests {
    private let writer = SARIFWriter(tool: SampleFindings.tool, category: "sparrow/pr-review")

    @Test func sampleMatchesGoldenAndTheOfficialSchema() throws {
        let output = try writer.write(SampleFindings.findings())
        try FixtureFiles.expectGolden(output.text, named: "sample.sarif")
        #expect(output.omittedResults == 0)
        let empty = try SARIFWriter(tool: SampleFindings.tool).write([])
        try SchemaValidator.expectValid([output.text, empty.text], schema: FixtureFiles.sarifSchema)
    }

    /// The validator is real and checks formats: a region on line 0 and a URI with a raw space are refused.
    /// (Format checks need rfc3987 in the venv, which Scripts/setup installs.)
    @Test func validatorRefusesBrokenLogs() throws {
        let good = try writer.write(SampleFindings.findings()).text
        let lineZero = good.replacingOccurrences(of: "\"startLine\" : 12", with: "\"startLine\" : 0")
        let rawSpace = good.replacingOccurrences(of: "Dir%20With%20Space", with: "Dir With Space")
        #expect(lineZero != good && rawSpace != good, "the golden layout changed; update these replacements")
        for broken in [lineZero, rawSpace] {
            let result = try SchemaValidator.validate([broken], schema: FixtureFiles.sarifSchema)
            #expect(result.exitCode != 0, "check-jsonschema accepted a broken SARIF log; is rfc3987 installed (Scripts/setup)?")
        }
    }

    @Test func resultsPointAtTheirRulesAndCarryFingerprints() throws {
        let findings = try SampleFindings.findings()
        let log = try #require(parseJSON(try writer.write(findings).text) as? [String: Any])
        let run = try #require((log["runs"] as? [[String: Any]])?.first)
        let rules = try #require(((run["tool"] as? [String: Any])?["driver"] as? [String: Any])?["rules"] as? [[String: Any]])
        let results = try #require(run["results"] as? [[String: Any]])
        #expect(results.count == findings.count)
        for result in results {
            let index = try #require(result["ruleIndex"] as? Int)
            #expect(rules[index]["id"] as? String == result["ruleId"] as? String)
            let fingerprints = result["partialFingerprints"] as? [String: String]
            let fingerprint = fingerprints?[SARIFWriter.fingerprintKey]
            #expect(findings.contains { $0.fingerprint == fingerprint })
            #expect(fingerprints?["primaryLocationLineHash"] == fingerprint, "GitHub matches alerts on primaryLocationLineHash")
        }
    }

    @Test func urisArePercentEncodedLikeFoundationDoes() throws {
        var allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~/")
        allowed.remove(charactersIn: "")
        var generator = SeededGenerator(seed: 3)
        for _ in 0..<200 {
            let path = RandomText.path(using: &generator)
            #expect(TextEncoding.uriReference(forPath: path) == path.addingPercentEncoding(withAllowedCharacters: allowed))
            #expect(TextEncoding.uriReference(forPath: path).removingPercentEncoding == path)
        }
    }

    @Test func pastTheResultLimitTheMostSevereStay() throws {
        let findings = try SampleFindings.findings()  // 2 errors, 1 warning, 1 note
        let limited = try SARIFWriter(tool: SampleFindings.tool, limits: .init(maxResults: 2, maxBytes: 1 << 30)).write(findings)
        #expect(limited.omittedResults == 2)
        let run = try #require(((parseJSON(limited.text) as? [String: Any])?["runs"] as? [[String: Any]])?.first)
        let levels = (run["results"] as? [[String: Any]])?.compactMap { $0["level"] as? String }
        #expect(levels == ["error", "error"])
        #expect((run["properties"] as? [String: Any])?["sparrow/omittedResults"] as? Int == 2)
    }

    @Test func pastTheByteLimitTheLogGoesCompactThenShrinksToFit() throws {
        var generator = SeededGenerator(seed: 5)
        let findings = try Fingerprinter.assign((0..<40).map { _ in try randomFinding(using: &generator) })
        let pretty = try SARIFWriter(tool: SampleFindings.tool).write(findings)
        let compact = try SARIFWriter(
            tool: SampleFindings.tool, limits: .init(maxResults: 25_000, maxBytes: pretty.text.utf8.count - 1)
        ).write(findings)
        #expect(compact.omittedResults == 0)
        #expect(compact.text.utf8.count < pretty.text.utf8.count)
        #expect(compact.text.utf8.filter { $0 == UInt8(ascii: "\n") }.count == 1, "compact: one line")
        let prettyMessages = try decodeJSON(Decoded.SARIFLog.self, pretty.text).runs.flatMap(\.results).map { ByteString($0.message.text) }
        let compactMessages = try decodeJSON(Decoded.SARIFLog.self, compact.text).runs.flatMap(\.results).map { ByteString($0.message.text) }
        #expect(compactMessages == prettyMessages)

        let limit = compact.text.utf8.count / 2
        let limited = try SARIFWriter(tool: SampleFindings.tool, limits: .init(maxResults: 25_000, maxBytes: limit)).write(findings)
        #expect(limited.text.utf8.count <= limit)
        #expect(limited.omittedResults > 0 && limited.omittedResults < findings.count)
        let kept = findings.count - limited.omittedResults
        let keptLevels = Set(findings.sorted { $0.severity > $1.severity }.prefix(kept).map(\.severity.sarifLevel))
        let run = try #require(((parseJSON(limited.text) as? [String: Any])?["runs"] as? [[String: Any]])?.first)
        let levels = (run["results"] as? [[String: Any]])?.compactMap { $0["level"] as? String } ?? []
        #expect(levels.count == kept && Set(levels) == keptLevels)
        try SchemaValidator.expectValid([compact.text, limited.text], schema: FixtureFiles.sarifSchema)
    }

    @Test func findingsNeedFingerprints() throws {
        let bare = try Finding(ruleID: "r", severity: .note, message: "m", path: "a", range: SourceRange(startLine: 1), taskID: "t")
        #expect(throws: AnnotationsError.missingFingerprint(ruleID: "r", path: "a", line: 1)) { try writer.write([bare]) }
    }
}
