import Annotations
import Foundation
import Generation
import Git
import Jobs

/// Runs one task within its time limit and turns whatever happens into a journal entry.
enum TaskExecution {
    static func run(
        task: TaskSpec, key: String, commits: [String: ObjectID], resolutionError: String?, context: TaskContext
    ) async -> JournalEntry {
        let start = Date()
        var entry = JournalEntry(id: task.id, key: key, kind: task.kind.name.rawValue, status: .error)
        if let resolutionError {
            entry.detail = resolutionError
            return entry
        }
        let limit = task.generation.timeout.seconds
        let outcome = await withTaskGroup(of: JournalEntry?.self) { group in
            group.addTask { await body(task: task, key: key, commits: commits, context: context) }
            group.addTask {
                try? await Task.sleep(nanoseconds: UInt64(limit) * 1_000_000_000)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        guard var finished = outcome else {
            entry.detail = "timed out after \(task.generation.timeout) (timeout)"
            entry.seconds = Date().timeIntervalSince(start)
            return entry
        }
        finished.seconds = Date().timeIntervalSince(start)
        return finished
    }

    private static func body(task: TaskSpec, key: String, commits: [String: ObjectID], context: TaskContext) async -> JournalEntry {
        var entry = JournalEntry(id: task.id, key: key, kind: task.kind.name.rawValue, status: .error)
        guard let repository = context.repository, let generator = context.generator else {
            entry.detail = "no repository or model"
            return entry
        }
        switch task.kind {
        case let .review(review):
            guard let base = commits["base"], let head = commits["head"] else {
                entry.detail = "revisions did not resolve"
                return entry
            }
            let runner = ReviewTaskRunner(
                task: task, review: review, repository: repository, base: base, head: head, generator: generator,
                gate: context.gate, systemMessage: context.systemMessage, contextLength: context.contextLength
            )
            do {
                let outcome = try await runner.run()
                entry.status = outcome.status
                entry.detail = outcome.detail
                entry.findings = outcome.findings
                entry.review = outcome.record
                entry.requests = outcome.requests
                entry.usage = outcome.usage
            } catch {
                entry.detail = "\(error)"
            }
        case let .patch(patch):
            guard let at = commits["at"] else {
                entry.detail = "revisions did not resolve"
                return entry
            }
            let sandbox: CommandSandbox?
            do {
                sandbox = patch.verify == nil && patch.setup == nil
                    ? nil : try await CommandSandbox.make(mode: context.sandbox, environment: context.environment)
            } catch {
                entry.detail = "\(error)"
                return entry
            }
            let runner = PatchTaskRunner(
                task: task, patch: patch, repository: repository, at: at, generator: generator, gate: context.gate,
                sandbox: sandbox, contextLength: context.contextLength
            )
            do {
                let outcome = try await runner.run()
                entry.status = outcome.status
                entry.detail = outcome.detail
                entry.attempts = outcome.attempts
                entry.patch = outcome.mail
                entry.requests = outcome.requests
                entry.usage = outcome.usage
            } catch {
                entry.detail = "\(error)"
            }
        case let .tests(tests):
            guard let base = commits["base"], let head = commits["head"] else {
                entry.detail = "revisions did not resolve"
                return entry
            }
            do {
                let sandbox = try await CommandSandbox.make(mode: context.sandbox, environment: context.environment)
                let runner = TestsTaskRunner(
                    task: task, tests: tests, repository: repository, base: base, head: head, generator: generator,
                    gate: context.gate, sandbox: sandbox
                )
                let outcome = try await runner.run()
                entry.status = outcome.status
                entry.detail = outcome.detail
                entry.candidates = outcome.candidates
                entry.testFiles = outcome.files
                entry.patch = outcome.mail
                entry.requests = outcome.requests
                entry.usage = outcome.usage
            } catch {
                entry.detail = "\(error)"
            }
        }
        return entry
    }
}
