import Foundation
@testable import Jobs
import Testing

/// `sandbox_limits:` in `defaults` and per patch/tests task: units, merging, and where the key is allowed. (Bad
/// values and their FILE:LINE:COLUMN messages are in `Fixtures/invalid/sandbox-limits-*.yaml`.)
@Suite struct SandboxLimitsSpecTests {
    private func load(_ text: String) throws -> JobSpec {
        try SpecLoader.decode(Array(text.utf8), file: "jobs.yaml", baseDirectory: "/specs").spec
    }

    private func limitsOf(_ task: TaskSpec) -> SandboxLimitSettings? {
        switch task.kind {
        case let .patch(patch): patch.sandboxLimits
        case let .tests(tests): tests.sandboxLimits
        case .review: nil
        }
    }

    @Test func withoutTheKeyEveryTaskHasTheDocumentedDefaults() throws {
        let spec = try load("""
            version: 1
            model: {path: m.gguf}
            tasks: [{id: p, kind: patch, instruction: x}, {id: t, kind: tests, run: make}]
            """)
        for task in spec.tasks {
            let limits = try #require(limitsOf(task))
            #expect(limits == SandboxLimitSettings())
            #expect(limits.processes == 512 && limits.fileSize.bytes == 1 << 30 && limits.memory.bytes == 8 << 30)
            #expect(limits.cpuTime.seconds == 900 && limits.wallClock.seconds == 900)
            #expect(limits.tmpfs.bytes == 512 << 20 && limits.output.bytes == 64 << 10)
        }
    }

    @Test func taskKeysOverrideDefaultsKeyByKeyWithUnits() throws {
        let spec = try load("""
            version: 1
            model: {path: m.gguf}
            defaults:
              max_tokens: 256
              sandbox_limits: {processes: 64, memory: 2GiB, cpu_time: 1m30s, wall_clock: 10m, tmpfs: 64MiB, output: 16KiB, file_size: 1.5GB}
            tasks:
              - {id: p, kind: patch, instruction: x, sandbox_limits: {memory: 512MiB, wall_clock: 90}}
              - {id: t, kind: tests, run: make, sandbox_limits: {processes: 1024, output: 1048576}}
              - {id: u, kind: tests, run: make}
            """)
        let patch = try #require(limitsOf(spec.tasks[0]))
        #expect(patch.memory.bytes == 512 << 20 && patch.wallClock.seconds == 90)
        #expect(patch.processes == 64 && patch.cpuTime.seconds == 90 && patch.tmpfs.bytes == 64 << 20)
        #expect(patch.output.bytes == 16 << 10 && patch.fileSize.bytes == 1_500_000_000)
        let tests = try #require(limitsOf(spec.tasks[1]))
        #expect(tests.processes == 1024 && tests.output.bytes == 1 << 20)
        #expect(tests.memory.bytes == 2 << 30 && tests.wallClock.seconds == 600)
        let untouched = try #require(limitsOf(spec.tasks[2]))
        #expect(untouched.processes == 64 && untouched.memory.bytes == 2 << 30 && untouched.output.bytes == 16 << 10)
    }

    @Test func limitsAreNamedWithThePathOfTheTaskThatSetThem() throws {
        let text = """
            version: 1
            model: {path: m.gguf}
            tasks:
              - {id: p, kind: patch, instruction: x, sandbox_limits: {memory: 10MiB}}
            """
        do {
            _ = try load(text)
            Issue.record("a 10MiB memory limit was accepted")
        } catch let error as SpecError {
            let messages = error.diagnostics.map { "\($0.location): \($0.message)" }
            #expect(messages == [
                "4:67: tasks[0].sandbox_limits.memory: expected a byte size from 64.0 MiB to 16.0 TiB, such as 512MiB, 2GiB or a "
                    + "number of bytes, found \"10MiB\"",
            ])
        }
    }
}
