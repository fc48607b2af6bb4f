import Foundation
import Testing

@testable import Annotations

@Suite struct CheckstyleWriterTests {
    @Test func sampleMatchesGoldenAndParses() throws {
        let findings = try SampleFindings.findings()
        let text = CheckstyleWriter().write(findings)
        try FixtureFiles.expectGolden(text, named: "sample.checkstyle.xml")
        let root = try XMLReference.parse(text)
        let files = root.children(named: "file")
        #expect(files.count == Set(findings.map(\.path)).count)
        let errors = files.flatMap { $0.children(named: "error") }
        #expect(errors.count == findings.count)
        #expect(Set(errors.compactMap { $0.attributeValue("message") }) == Set(findings.map(\.message)))
        #expect(Set(files.compactMap { $0.attributeValue("name") }) == Set(findings.map(\.path)))
    }
}

@Suite struct JUnitWriterTests {
    @Test func sampleMatchesGoldenAndParses() throws {
        let text = JUnitWriter().write(tasks: SampleFindings.tasks, findings: try SampleFindings.findings())
        try FixtureFiles.expectGolden(text, named: "sample.junit.xml")
        let root = try XMLReference.parse(text)
        #expect(root.attributeValue("tests") == "4")
        #expect(root.attributeValue("failures") == "1")
        #expect(root.attributeValue("errors") == "1")
        let cases = root.children(named: "testsuite").flatMap { $0.children(named: "testcase") }
        #expect(cases.compactMap { $0.attributeValue("name") }.sorted() == SampleFindings.tasks.map(\.id).sorted())
        let failed = cases.first { $0.attributeValue("name") == "fix-1234" }
        #expect(failed?.children(named: "failure").first?.text == "no patch passed verify after 3 attempts\nlast: 2 tests failed")
        let errored = cases.first { $0.attributeValue("name") == "tests-lexer" }
        #expect(errored?.children(named: "error").first?.attributeValue("message") == "sandbox: user namespaces are refused <here> & there")
        let passed = cases.first { $0.attributeValue("name") == "pr-review" }
        #expect(passed?.children(named: "failure").isEmpty == true && passed?.children(named: "error").isEmpty == true)
    }
}
