import Foundation
import Testing
import TestSupport

/// The evaluation scorer (Evaluation/score.py) on hand-made outputs with known rates: its Python unittest suite
/// (Evaluation/tests/) builds a one-module task set with Evaluation/build-set, then checks the review, patch and
/// tests rates, Sparrow's and the peers' output adapters and the table. Needs python3 and git only.
@Suite("Evaluation scorer")
struct EvalScorerTests {
    static let evaluation = SparrowBinary.repositoryRoot.appendingPathComponent("Evaluation")

    @Test("the scorer's unittest suite passes, and it ran every test in it")
    func scorerSuite() throws {
        let result = try runProcess(
            URL(fileURLWithPath: "/usr/bin/env"),
            arguments: ["python3", "-m", "unittest", "discover", "-v", "-s", Self.evaluation.appendingPathComponent("tests").path],
            environment: ProcessInfo.processInfo.environment.merging(["PYTHONDONTWRITEBYTECODE": "1"]) { _, new in new },
            currentDirectory: SparrowBinary.repositoryRoot,
            watchdogSeconds: 300
        )
        let report = result.standardError
        #expect(result.exitCode == 0, "python3 -m unittest discover -s Evaluation/tests failed:\n\(report)")
        // unittest prints "Ran N tests" and "OK"; a suite that found no test would still exit 0.
        let ran = report.split(separator: "\n").first { $0.hasPrefix("Ran ") }.flatMap { Int($0.split(separator: " ")[1]) } ?? 0
        let tests = Self.evaluation.appendingPathComponent("tests")
        var defined = 0
        for file in try FileManager.default.contentsOfDirectory(atPath: tests.path) where file.hasPrefix("test_") && file.hasSuffix(".py") {
            defined += try String(contentsOf: tests.appendingPathComponent(file), encoding: .utf8)
                .components(separatedBy: "\n").filter { $0.hasPrefix("    def test_") }.count
        }
        #expect(defined > 0)
        #expect(ran == defined, "ran \(ran) of the \(defined) tests defined in Evaluation/tests/test_*.py")
        #expect(!result.timedOut)
    }

    @Test("the committed task set has 20 review, 20 patch and 10 tests tasks")
    func setSize() throws {
        let set = Self.evaluation.appendingPathComponent("set")
        let names = try FileManager.default.contentsOfDirectory(atPath: set.path).filter {
            FileManager.default.fileExists(atPath: set.appendingPathComponent("\($0)/task.json").path)
        }
        var withMutants = 0
        for name in names {
            let data = try Data(contentsOf: set.appendingPathComponent("\(name)/task.json"))
            let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
            #expect(object?["bug"] != nil, "\(name)/task.json has no bug")
            #expect((object?["instruction"] as? String)?.isEmpty == false, "\(name)/task.json has no instruction")
            if let mutants = object?["mutants"] as? [Any], !mutants.isEmpty { withMutants += 1 }
            for file in ["module.py", "test_visible.py", "test_hidden.py"] {
                #expect(FileManager.default.fileExists(atPath: set.appendingPathComponent("\(name)/\(file)").path), "\(name)/\(file) is missing")
            }
        }
        // One review and one patch task per module; a tests task per module with mutants.
        #expect(names.count >= 20)
        #expect(withMutants >= 10)
    }
}
