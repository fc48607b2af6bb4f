import Annotations
import Foundation
import Generation
import Git
@testable import Runner
import TestSupport
import Testing

/// Tests tasks end to end with a scripted model: which candidates are kept (they pass every run and catch
/// something) and which are dropped, with the reason.
@Suite struct TestWritingTests {
    static let base = "def clamp(x, low, high):\n    return max(low, min(x, high))\n"
    static let head = """
        def clamp(x, low, high):
            if x < low:
                return low
            if x > high:
                return high
            return x


        def double(x):
            return 2 * x

        """
    static let candidates: [(String, String)] = [
        ("tests/test_kills.py", "from calc import clamp\nassert clamp(5, 0, 3) == 3\nassert clamp(-1, 0, 3) == 0\nassert clamp(2, 0, 3) == 2\n"),
        ("tests/test_nothing.py", "from calc import clamp\nassert callable(clamp)\n"),
        ("tests/test_flaky.py", """
            import os
            path = os.path.join(os.path.dirname(os.path.abspath(__file__)), '.count')
            count = int(open(path).read()) if os.path.exists(path) else 0
            open(path, 'w').write(str(count + 1))
            assert count != 1, 'fails on the second run'

            """),
        ("tests/test_broken.py", "from calc import clamp\nassert clamp(1, 0, 3) ==\n"),
        ("tests/test_double.py", "from calc import double\nassert double(4) == 8\n"),
        ("../escape.py", "print('x')\n"),
    ]

    static func answer() -> String {
        let object: [String: Any] = ["tests": candidates.map { ["path": $0.0, "content": $0.1] }]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    /// With an existing test (which kills some mutants itself, so a candidate is credited only beyond it) and
    /// without any (the run command then fails on head before candidates exist, and every mutant counts).
    @Test(arguments: [true, false])
    func onlyReliableTestsThatCatchSomethingAreKept(withExistingTest: Bool) async throws {
        let fixture = try RunnerFixture()
        defer { fixture.remove() }
        let existing: [GitRepositoryEntry] = withExistingTest ? [.file("tests/test_existing.py", "from calc import clamp\nassert clamp(0, 0, 1) == 0\n")] : []
        try fixture.repository.commit([.file("calc.py", Self.base)] + existing, message: "base")
        try fixture.repository.commit([.file("calc.py", Self.head)] + existing, message: "head")
        let spec = try fixture.spec("""
            tasks:
              - id: tests-calc
                kind: tests
                base: main~1
                head: main
                test_dir: tests
                run: "for f in tests/test_*.py; do PYTHONPATH=. python3 $f || exit 1; done"
            outputs: {formats: [junit]}

            """)
        let generator = ScriptedGenerator { _ in Self.answer() }
        let environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
        let result = try await fixture.run(fixture.options(spec, environment: environment), generator: generator)
        #expect(result.exitCode == 0)

        let journal = try #require(fixture.output("out", "results.jsonl"))
        let entry = try JSONDecoder().decode(JournalEntry.self, from: journal.split(separator: UInt8(ascii: "\n"))[0])
        #expect(entry.status == .ok, "\(entry.detail)")
        let candidates = Dictionary((entry.candidates ?? []).map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        #expect(candidates["tests/test_kills.py"]?.kept == true)
        #expect(candidates["tests/test_kills.py"]?.reason.hasPrefix("kills mutant calc.py:") == true, "\(candidates["tests/test_kills.py"]?.reason ?? "")")
        #expect(candidates["tests/test_nothing.py"]?.kept == false)
        #expect(candidates["tests/test_nothing.py"]?.reason.hasPrefix("catches nothing") == true)
        let allMutants = Mutants.make(path: "calc.py", text: Self.head, lines: Array(1...10)).count
        let nothing = candidates["tests/test_nothing.py"]?.reason ?? ""
        #expect(nothing.contains("on all \(allMutants) mutants") == !withExistingTest, "\(nothing)")
        #expect(candidates["tests/test_flaky.py"]?.kept == false)
        #expect(candidates["tests/test_flaky.py"]?.reason == "flaky: passed 2 of 3 runs")
        #expect(candidates["tests/test_broken.py"]?.kept == false)
        #expect(candidates["tests/test_broken.py"]?.reason.hasPrefix("does not build or fails on head") == true)
        #expect(candidates["tests/test_double.py"]?.kept == true)
        #expect(candidates["tests/test_double.py"]?.reason.hasPrefix("fails on base") == true)
        #expect(candidates["../escape.py"]?.reason.contains("'..'") == true)
        #expect(entry.testFiles?.map(\.path) == ["tests/test_kills.py", "tests/test_double.py"])

        let kept = try #require(fixture.output("out", "tests/tests-calc/tests/test_kills.py"))
        #expect(String(decoding: kept, as: UTF8.self) == Self.candidates[0].1)
        #expect(fixture.output("out", "tests/tests-calc/tests/test_nothing.py") == nil)
        let mail = try #require(fixture.output("out", "patches/tests-calc.patch"))
        let clone = try TemporaryDirectory(prefix: "sparrow-clone")
        defer { clone.remove() }
        _ = try GitRepository.runGit(["clone", "-q", fixture.repository.url.path, clone.url.appendingPathComponent("c").path], in: clone.url)
        let patchFile = try clone.write(mail, to: "tests.patch")
        let applied = try runProcess(
            URL(fileURLWithPath: "/usr/bin/git"), arguments: ["-C", clone.url.appendingPathComponent("c").path, "apply", "--check", patchFile.path]
        )
        #expect(applied.exitCode == 0, "git apply --check: \(applied.standardError)")
    }

    @Test func mutantsCoverEachOperatorOnChangedLinesOnly() {
        let text = "a = 1\nif x < 10 and ok:\n    y = x == 3\n"
        let mutants = Mutants.make(path: "m.py", text: text, lines: [2, 3])
        let operations = Set(mutants.map { $0.operation.split(separator: ":").first.map(String.init) ?? "" })
        #expect(operations == ["flipped comparison", "off-by-one", "negated condition", "changed constant", "removed statement"])
        #expect(!mutants.contains { $0.line == 1 })
        #expect(mutants.contains { $0.text == "a = 1\nif x > 10 and ok:\n    y = x == 3\n" })
        #expect(mutants.contains { $0.text == "a = 1\nif x < 11 and ok:\n    y = x == 3\n" })
        #expect(mutants.contains { $0.text == "a = 1\nif x < 10 and ok:\n    y = x != 3\n" })
        #expect(mutants.contains { $0.text == "a = 1\nif x < 10 and ok:\n    pass\n" })
        #expect(Mutants.mutations(of: "    # if x < 3", python: true).isEmpty)
        #expect(Mutants.mutations(of: "let f = a -> b", python: false).allSatisfy { !$0.0.hasPrefix("flipped") })
    }
}
