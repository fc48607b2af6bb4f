import Foundation
import Jobs
@testable import Runner
import Testing

/// The journal key decides what `--resume` redoes: everything a task's result depends on must change it.
@Suite struct TaskKeyTests {
    private func key(_ limits: String, kind: String) throws -> String {
        let task = kind == "patch" ? "{id: a, kind: patch, instruction: x, verify: make\(limits)}"
            : "{id: a, kind: tests, run: make\(limits)}"
        let text = "version: 1\nmodel: {path: m.gguf}\ntasks: [\(task)]\n"
        let spec = try SpecLoader.decode(Array(text.utf8), file: "jobs.yaml", baseDirectory: "/specs").spec
        let first = try #require(spec.tasks.first)
        return TaskKey.make(task: first, commits: ["at": "0123"], modelIdentity: "model")
    }

    @Test(arguments: ["patch", "tests"])
    func sandboxLimitsArePartOfTheKey(kind: String) throws {
        let plain = try key("", kind: kind)
        // Spelling the defaults out is the same task.
        #expect(try key(", sandbox_limits: {memory: 8GiB, wall_clock: 15m}", kind: kind) == plain)
        for changed in ["{memory: 2GiB}", "{wall_clock: 10m}", "{processes: 64}", "{tmpfs: 64MiB}", "{output: 16KiB}",
                        "{cpu_time: 1m}", "{file_size: 2GiB}"]
        {
            #expect(try key(", sandbox_limits: \(changed)", kind: kind) != plain, "\(changed)")
        }
    }
}
