import Annotations
import Foundation
import Generation
import Git
import Jobs

/// Runs one patch task (DESIGN.md §7): pick the files, check out `at` into a temporary worktree, run `setup`
/// once (with network, before any model-written code exists), then up to `attempts` times: ask for edits, apply
/// the ones that pass `EditGuard`, run `verify` in the sandbox, and feed a failure's output back. The first
/// attempt that passes becomes a format-patch mail against `at`.
struct PatchTaskRunner {
    let task: TaskSpec
    let patch: PatchTask
    let repository: Repository
    let at: ObjectID
    let generator: any TextGenerating
    let gate: RequestGate
    /// Nil only when there is no `verify` (nothing model-written runs).
    let sandbox: CommandSandbox?
    let contextLength: Int

    struct Outcome {
        var status: TaskOutcome.Status
        var detail: String
        var attempts: [PatchAttempt] = []
        var files: [String] = []
        var mail: String?
        var requests = 0
        var usage = TokenUsage()
    }

    /// Bytes of failing output sent back to the model.
    static let feedbackBytes = 4000

    func run() async throws -> Outcome {
        let checkout = try repository.checkout(at.hex)
        defer { try? checkout.remove() }
        let editGuard = EditGuard(root: checkout.directory)

        var paths: [String] = []
        for path in patch.files where !paths.contains(path) { paths.append(path) }
        if paths.isEmpty {
            let budget = max(4096, (contextLength - task.generation.maxTokens) * 3 - 2000)
            paths = FileFinder().find(instruction: patch.instruction, in: checkout.directory, budgetBytes: budget)
            if paths.isEmpty {
                return Outcome(status: .error, detail: "no file of \(at.abbreviated()) matches the instruction's names or paths; list them under files:")
            }
        }
        var files: [(path: String, text: String)] = []
        for path in paths {
            let read = editGuard.read(path)
            guard let text = read.text else {
                return Outcome(status: .error, detail: "files: \(read.refusal?.reason ?? path) (at \(at.abbreviated()))", files: paths)
            }
            files.append((path, text))
        }

        if let setup = patch.setup {
            guard let sandbox else { return Outcome(status: .error, detail: "no command runner for setup", files: paths) }
            let result = try await sandbox.runSetup(setup, in: checkout.directory)
            if !result.succeeded {
                return Outcome(status: .error, detail: "setup `\(setup)` failed (\(result.summary)):\n\(result.tail(Self.feedbackBytes))", files: paths)
            }
        }

        var outcome = Outcome(status: .failed, detail: "", files: paths)
        // Search/replace first; the whole-file rewrite is the fallback, offered once an attempt had no usable edit.
        let editsOnly = EditSchema.schema(files: files, rewrites: false)
        let withRewrites = EditSchema.schema(files: files, rewrites: true)
        var offerRewrites = false
        let allowed = Set(paths)
        let originals = Dictionary(files.map { ($0.path, $0.text) }, uniquingKeysWith: { first, _ in first })
        var previous: (answer: String, problem: String)?
        // The files must leave room for the answer and for one round of feedback.
        let promptTokens = await generator.countTokens(
            PatchPrompt.prompt(instruction: patch.instruction, files: files, previous: (String(repeating: " ", count: 2000), String(repeating: " ", count: Self.feedbackBytes)))
        )
        if promptTokens + task.generation.maxTokens > contextLength {
            outcome.status = .error
            outcome.detail = "the files (\(paths.joined(separator: ", "))) need \(promptTokens) prompt tokens; with max_tokens \(task.generation.maxTokens) that exceeds model.context \(contextLength): list fewer or smaller files"
            return outcome
        }
        for number in 1...max(1, patch.attempts) {
            for file in files { _ = editGuard.write(file.text, to: file.path) }  // undo the previous attempt
            let settings = task.generation
            let request = GenerationRequest(
                id: "\(task.id)/attempt-\(number)",
                prompt: PatchPrompt.prompt(instruction: patch.instruction, files: files, previous: previous),
                maxTokens: settings.maxTokens,
                sampling: SamplingParameters(temperature: settings.temperature, topP: settings.topP, topK: settings.topK, seed: settings.seed),
                stop: settings.stop,
                constraint: .jsonSchema(name: "patch_edits", schema: offerRewrites ? withRewrites : editsOnly)
            )
            await gate.acquire()
            let response: GenerationResponse
            do throws(GenerationError) {
                response = try await generator.generate(request)
            } catch {
                await gate.release()
                outcome.attempts.append(PatchAttempt(number: number, outcome: "generation failed: \(error)"))
                if case .cancelled = error { break }
                continue
            }
            await gate.release()
            outcome.requests += 1
            outcome.usage = outcome.usage + response.usage

            let parsed = EditAnswer.parse(response.text)
            guard let answer = parsed.answer else {
                let problem = "unusable answer: \(parsed.problem ?? "")"
                offerRewrites = true
                outcome.attempts.append(PatchAttempt(number: number, outcome: problem))
                previous = (String(response.text.prefix(2000)), problem)
                continue
            }
            let applied = answer.apply(guard: editGuard, allowed: allowed, rewrites: offerRewrites)
            var attempt = PatchAttempt(number: number, changed: applied.changed, refused: applied.refused, outcome: "")
            let changedFiles = applied.changed.compactMap { path in editGuard.read(path).text.map { (path: path, text: $0) } }
                .filter { originals[$0.path] != $0.text }
            attempt.changed = changedFiles.map(\.path)
            if changedFiles.isEmpty {
                offerRewrites = true
                attempt.outcome = "no usable edit"
                let reasons = applied.refused.map { "\($0.path): \($0.reason)" }.joined(separator: "\n")
                if reasons.isEmpty {
                    attempt.problem = answer.items.isEmpty ? "the answer held no edit" : "the edits changed nothing (each replacement equals its search text)"
                }
                outcome.attempts.append(attempt)
                previous = (String(response.text.prefix(2000)), attempt.problem ?? reasons)
                continue
            }
            if let verify = patch.verify {
                guard let sandbox else { return Outcome(status: .error, detail: "no sandbox for verify") }
                let result: CommandResult
                let limits = SandboxLimits(patch.sandboxLimits)
                attempt.sandboxLimits = limits
                do {
                    result = try await sandbox.run(verify, in: checkout.directory, limits: limits)
                } catch {
                    attempt.outcome = "sandbox error: \(error)"
                    outcome.attempts.append(attempt)
                    outcome.status = .error
                    outcome.detail = "\(error)"
                    return outcome
                }
                attempt.verify = result.summary
                attempt.output = result.tail(Self.feedbackBytes)
                if !result.succeeded {
                    attempt.outcome = "verify failed"
                    outcome.attempts.append(attempt)
                    previous = (String(response.text.prefix(2000)), "`\(verify)` \(result.summary):\n\(result.tail(Self.feedbackBytes))")
                    continue
                }
            }
            attempt.outcome = "ok"
            outcome.attempts.append(attempt)
            let message = "sparrow: \(task.id)\n\n\(patch.instruction)\n"
            guard let mail = try PatchMail.make(repository: repository, base: at, files: changedFiles, taskID: task.id, message: message) else {
                outcome.status = .noChange
                outcome.detail = "the verified edits leave \(at.abbreviated()) unchanged"
                return outcome
            }
            outcome.status = .ok
            outcome.mail = mail
            outcome.detail = patch.verify == nil ? "no verify command: the patch applies but was not verified" : ""
            return outcome
        }
        outcome.status = .failed
        outcome.detail = "no attempt passed verify (\(outcome.attempts.count) of \(max(1, patch.attempts)) made): "
            + (outcome.attempts.last?.outcome ?? "")
        return outcome
    }
}
