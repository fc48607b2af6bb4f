import Hashing
import Annotations
import Foundation
import Jobs

/// The journal key of a task: SHA-256 of a canonical JSON description of everything its result depends on — the
/// spec entry, the resolved commits, the model's identity, sampling, and Sparrow's version.
enum TaskKey {
    static func make(task: TaskSpec, commits: [String: String], modelIdentity: String) -> String {
        var fields: [String: String] = [
            "sparrow": SparrowVersion.current,
            "model": modelIdentity,
            "id": task.id,
            "kind": task.kind.name.rawValue,
            "sampling": describe(task.generation),
        ]
        for (name, sha) in commits { fields["commit.\(name)"] = sha }
        switch task.kind {
        case let .review(review):
            fields["paths"] = review.paths.map(\.pattern).joined(separator: "\u{1F}")
            fields["exclude"] = review.exclude.map(\.pattern).joined(separator: "\u{1F}")
            fields["filter"] = review.filter.rawValue
            fields["context_lines"] = String(review.contextLines)
        case let .patch(patch):
            fields["instruction"] = patch.instruction
            fields["files"] = patch.files.joined(separator: "\u{1F}")
            fields["setup"] = patch.setup ?? ""
            fields["verify"] = patch.verify ?? ""
            fields["attempts"] = String(patch.attempts)
            fields["sandbox_limits"] = describe(patch.sandboxLimits)
        case let .tests(tests):
            fields["test_dir"] = tests.testDirectory ?? ""
            fields["setup"] = tests.setup ?? ""
            fields["run"] = tests.run
            fields["repeats"] = String(tests.repeats)
            fields["must_fail_on_base"] = String(tests.mustFailOnBase)
            fields["sandbox_limits"] = describe(tests.sandboxLimits)
        }
        let canonical = fields.keys.sorted().map { "\($0)=\(fields[$0] ?? "")" }.joined(separator: "\n")
        return SHA256.hexDigest(Array(canonical.utf8))
    }

    /// Limits change what a verification can do, so a task run under other limits is run again on `--resume`.
    private static func describe(_ limits: SandboxLimitSettings) -> String {
        [
            "processes=\(limits.processes)", "file_size=\(limits.fileSize.bytes)", "memory=\(limits.memory.bytes)",
            "cpu_time=\(limits.cpuTime.seconds)", "wall_clock=\(limits.wallClock.seconds)",
            "tmpfs=\(limits.tmpfs.bytes)", "output=\(limits.output.bytes)",
        ].joined(separator: ";")
    }

    private static func describe(_ settings: GenerationSettings) -> String {
        [
            "max_tokens=\(settings.maxTokens)", "temperature=\(settings.temperature)", "top_p=\(settings.topP)",
            "top_k=\(settings.topK)", "seed=\(settings.seed)", "stop=\(settings.stop.joined(separator: "\u{1F}"))",
        ].joined(separator: ";")
    }
}
