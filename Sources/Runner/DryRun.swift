import Foundation
import Generation
import Git
import Jobs

/// `--dry-run`: what a run would do — tasks, commits, chunks and prompt sizes (estimated: no model is loaded).
enum DryRun {
    private struct Estimator: TextGenerating {
        var model: ModelDescription { ModelDescription(name: "estimate", contextLength: 0, identity: "") }
        func generate(_ request: GenerationRequest) async throws(GenerationError) -> GenerationResponse {
            throw .backend(requestID: request.id, reason: "dry run")
        }
    }

    static func report(
        tasks: [TaskSpec], commits: [String: [String: ObjectID]], errors: [String: String], repository: Repository?,
        spec: JobSpec, systemMessage: String, shard: Shard, outputDirectory: String, reporter: any RunReporter
    ) async throws(RunnerError) -> RunResult {
        let estimator = Estimator()
        let context = spec.model.context ?? 32_768
        var lines = ["dry run: \(tasks.count) of \(spec.tasks.count) tasks in shard \(shard); outputs would go to \(outputDirectory)"]
        let systemTokens = PromptSizeEstimate.tokens(.chat([ChatMessage(role: .system, content: systemMessage)]))
        for task in tasks {
            let names = (commits[task.id] ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key) \($0.value.abbreviated(10))" }
            lines.append("task \(task.id) (\(task.kind.name.rawValue)) \(names.joined(separator: ", "))")
            if let error = errors[task.id] {
                lines.append("  cannot run: \(error)")
                continue
            }
            guard case let .review(review) = task.kind, let repository, let base = commits[task.id]?["base"],
                  let head = commits[task.id]?["head"]
            else { continue }
            do {
                let diff = try repository.diff(from: base, to: head, options: DiffOptions(contextLines: review.contextLines))
                var files: [String: [String]] = [:]
                for file in diff.files where file.status != .deleted && !file.isBinary {
                    if let text = try? repository.blob(at: file.path, in: head.hex).text {
                        files[file.path.description] = ReviewTaskRunner.lines(text)
                    }
                }
                let budget = (context - task.generation.maxTokens - systemTokens - 64) * 9 / 10
                let plan = await ReviewPlanner(task: review, budget: budget, countTokens: { await estimator.countTokens(.text($0)) })
                    .plan(diff: diff) { files[$0] }
                lines.append("  \(plan.chunks.count) chunks from \(plan.reviewedFiles.count) files; instructions ≈\(systemTokens) tokens; chunk budget \(budget) tokens")
                for (index, chunk) in plan.chunks.enumerated() {
                    let tokens = PromptSizeEstimate.tokens(.text(chunk.body))
                    lines.append("  chunk \(index + 1): \(chunk.path) lines \(chunk.lines.lowerBound)-\(chunk.lines.upperBound), ≈\(tokens) tokens")
                }
                for skipped in plan.skipped {
                    lines.append("  skipped \(skipped.path)\(skipped.lines.map { " lines \($0)" } ?? ""): \(skipped.reason)")
                }
            } catch {
                lines.append("  cannot diff: \(error)")
            }
        }
        for line in lines { reporter.message(line) }
        return RunResult(exitCode: errors.isEmpty ? 0 : 3, outputDirectory: outputDirectory, summary: "dry run: nothing was generated", githubCommands: nil)
    }
}
