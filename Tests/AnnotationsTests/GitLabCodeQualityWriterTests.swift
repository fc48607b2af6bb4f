import Testing

@testable import Annotations

@Suite struct GitLabCodeQualityWriterTests {
    @Test func sampleMatchesGolden() throws {
        try FixtureFiles.expectGolden(GitLabCodeQualityWriter().write(SampleFindings.findings()), named: "sample.gl-code-quality.json")
    }

    @Test func issuesCarryRequiredFieldsAndUniqueFingerprints() throws {
        let findings = try SampleFindings.findings()
        let issues = try #require(parseJSON(try GitLabCodeQualityWriter().write(findings)) as? [[String: Any]])
        #expect(issues.count == findings.count)
        let fingerprints = issues.compactMap { $0["fingerprint"] as? String }
        #expect(Set(fingerprints).count == findings.count)
        #expect(Set(fingerprints) == Set(findings.map(\.fingerprint)))
        for issue in issues {
            #expect(issue["description"] is String)
            #expect(["info", "minor", "major", "critical", "blocker"].contains(issue["severity"] as? String ?? ""))
            let location = issue["location"] as? [String: Any]
            #expect(location?["path"] is String)
            #expect(((location?["lines"] as? [String: Any])?["begin"] as? Int ?? 0) >= 1)
        }
        #expect(Severity.allCases.map(\.gitlabSeverity) == ["info", "major", "critical"])
    }

    @Test func sharedFingerprintsAreRefused() throws {
        let a = try Finding(ruleID: "r", severity: .note, message: "a", path: "x", range: SourceRange(startLine: 1), taskID: "t", fingerprint: "f")
        let b = try Finding(ruleID: "r", severity: .note, message: "b", path: "x", range: SourceRange(startLine: 2), taskID: "t", fingerprint: "f")
        #expect(throws: AnnotationsError.duplicateFingerprint(fingerprint: "f", firstPath: "x", firstLine: 1, secondPath: "x", secondLine: 2)) {
            try GitLabCodeQualityWriter().write([b, a])
        }
    }
}
