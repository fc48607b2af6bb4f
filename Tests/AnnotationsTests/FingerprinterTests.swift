import Testing

@testable import Annotations

@Suite struct FingerprinterTests {
    private func finding(
        rule: String = "swift.force-unwrap", path: String = "Sources/A.swift", line: Int, text: String,
        message: String = "m"
    ) throws -> Finding {
        try Finding(
            ruleID: rule, severity: .warning, message: message, path: path, range: SourceRange(startLine: line),
            flaggedLines: [text], taskID: "t")
    }

    @Test func anUnrelatedEditAboveKeepsFingerprints() throws {
        let before = try Fingerprinter.assign([
            finding(line: 10, text: "let x = y!"), finding(line: 30, text: "let x = y!"), finding(line: 50, text: "z!.run()"),
        ])
        // Five lines inserted at the top, and a finding of another rule on one of them.
        let after = try Fingerprinter.assign([
            finding(rule: "style", line: 2, text: "import Foo"),
            finding(line: 15, text: "let x = y!"), finding(line: 35, text: "let x = y!"), finding(line: 55, text: "z!.run()"),
        ])
        #expect(Array(after.dropFirst()).map(\.fingerprint) == before.map(\.fingerprint))
    }

    @Test func reindentingTheLineKeepsTheFingerprint() throws {
        let a = try Fingerprinter.assign([finding(line: 3, text: "let  x = y!")])
        let b = try Fingerprinter.assign([finding(line: 3, text: "\t\tlet x   =  y!  ")])
        #expect(a[0].fingerprint == b[0].fingerprint)
        #expect(Fingerprinter.normalisedText(["  a \t b  ", "", "   ", "c"]) == "a b\nc")
    }

    @Test func identicalLinesNeverShareAFingerprint() throws {
        let findings = try Fingerprinter.assign([
            finding(line: 40, text: "let x = y!"), finding(line: 10, text: "let x = y!"),
            finding(line: 10, text: "let x = y!", message: "second finding on the same line"),
        ])
        #expect(Set(findings.map(\.fingerprint)).count == 3)
        // The occurrence index follows the position in the file, not the input order.
        #expect(findings[1].fingerprint == Fingerprinter.hash(rule: "swift.force-unwrap", path: "Sources/A.swift", text: "let x = y!", occurrence: 0))
        #expect(findings[0].fingerprint == Fingerprinter.hash(rule: "swift.force-unwrap", path: "Sources/A.swift", text: "let x = y!", occurrence: 2))
    }

    @Test func ruleAndPathAndTextAllCount() throws {
        let base = try Fingerprinter.assign([finding(line: 1, text: "a")])[0].fingerprint
        #expect(try Fingerprinter.assign([finding(rule: "other", line: 1, text: "a")])[0].fingerprint != base)
        #expect(try Fingerprinter.assign([finding(path: "B.swift", line: 1, text: "a")])[0].fingerprint != base)
        #expect(try Fingerprinter.assign([finding(line: 1, text: "b")])[0].fingerprint != base)
        // Canonically equivalent but different bytes are different text.
        #expect(try Fingerprinter.assign([finding(line: 1, text: "é")])[0].fingerprint
            != Fingerprinter.assign([finding(line: 1, text: "e\u{301}")])[0].fingerprint)
        #expect(base.count == 64 && base.allSatisfy(\.isHexDigit))
    }

    @Test func randomSetsGetUniqueFingerprintsWhateverTheOrder() throws {
        var generator = SeededGenerator(seed: 11)
        for _ in 0..<20 {
            var findings: [Finding] = []
            for _ in 0..<60 {
                findings.append(try finding(
                    rule: ["a", "b"].randomElement(using: &generator) ?? "a", line: Int.random(in: 1...5, using: &generator),
                    text: ["x", "y", " x "].randomElement(using: &generator) ?? "x",
                    message: RandomText.string(maxPieces: 2, using: &generator)))
            }
            let assigned = try Fingerprinter.assign(findings)
            #expect(Set(assigned.map(\.fingerprint)).count == assigned.count)
            let shuffled = try Fingerprinter.assign(findings.shuffled(using: &generator))
            #expect(Set(shuffled) == Set(assigned))
        }
    }
}
