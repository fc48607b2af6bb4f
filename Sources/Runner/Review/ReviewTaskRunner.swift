import Annotations
import Foundation
import Generation
import Git
import Jobs

/// Runs one review task: diff base..head, plan chunks, ask the model about each (up to `model.parallel` at once
/// across the run), keep findings on the lines the filter allows, drop duplicates and `sparrow-ignore`d ones.
struct ReviewTaskRunner {
    let task: TaskSpec
    let review: ReviewTask
    let repository: Repository
    let base: ObjectID
    let head: ObjectID
    let generator: any TextGenerating
    let gate: RequestGate
    let systemMessage: String
    let contextLength: Int

    struct Outcome {
        var status: TaskOutcome.Status
        var detail: String
        var findings: [Finding]
        var record: ReviewRecord
        var requests: Int
        var usage: TokenUsage
    }

    func run() async throws -> Outcome {
        var options = DiffOptions(contextLines: review.contextLines)
        options.detectRenames = true
        let diff = try repository.diff(from: base, to: head, options: options)
        var record = ReviewRecord(base: base.hex, head: head.hex)

        var headFiles: [String: [String]] = [:]
        for file in diff.files where file.status != .deleted && !file.isBinary {
            let path = file.path.description
            if let blob = try? repository.blob(at: file.path, in: head.hex, sizeLimit: 4 << 20), let text = blob.text {
                headFiles[path] = Self.lines(text)
            }
        }

        let settings = task.generation
        let generator = self.generator
        let systemTokens = await generator.countTokens(.chat([ChatMessage(role: .system, content: systemMessage)]))
        let budget = (contextLength - settings.maxTokens - systemTokens - 64) * 9 / 10
        guard budget >= 64 else {
            return Outcome(
                status: .error,
                detail: "model.context (\(contextLength)) leaves no room for a chunk after the instructions (\(systemTokens) tokens) and max_tokens (\(settings.maxTokens))",
                findings: [], record: record, requests: 0, usage: TokenUsage()
            )
        }
        let planner = ReviewPlanner(task: review, budget: budget, countTokens: { await generator.countTokens(.text($0)) })
        let plan = await planner.plan(diff: diff) { headFiles[$0] }
        record.reviewedFiles = plan.reviewedFiles
        record.skipped = plan.skipped
        if plan.chunks.isEmpty {
            return Outcome(status: .noChange, detail: "nothing to review (\(plan.skipped.count) files skipped)", findings: [], record: record, requests: 0, usage: TokenUsage())
        }

        // Ask about every chunk; results are put back in chunk order so the outcome does not depend on timing.
        let answers = await withTaskGroup(of: (Int, Result<GenerationResponse, GenerationError>).self) { group in
            for (index, chunk) in plan.chunks.enumerated() {
                let request = GenerationRequest(
                    id: "\(task.id)/chunk-\(index + 1)",
                    prompt: ReviewPrompt.prompt(system: systemMessage, chunk: chunk),
                    maxTokens: settings.maxTokens,
                    sampling: SamplingParameters(
                        temperature: settings.temperature, topP: settings.topP, topK: settings.topK, seed: settings.seed
                    ),
                    stop: settings.stop,
                    constraint: .jsonSchema(name: "review_findings", schema: ReviewSchema.schema(path: chunk.path, lines: chunk.lines))
                )
                group.addTask {
                    await gate.acquire()
                    let result: Result<GenerationResponse, GenerationError>
                    do throws(GenerationError) {
                        result = .success(try await generator.generate(request))
                    } catch {
                        result = .failure(error)
                    }
                    await gate.release()
                    return (index, result)
                }
            }
            var collected: [(Int, Result<GenerationResponse, GenerationError>)] = []
            for await answer in group { collected.append(answer) }
            return collected.sorted { $0.0 < $1.0 }
        }

        var usage = TokenUsage()
        var proposed: [ProposedFinding] = []
        var failures: [String] = []
        for (index, answer) in answers {
            let chunk = plan.chunks[index]
            switch answer {
            case let .success(response):
                usage = usage + response.usage
                let parsed = ReviewAnswerParser.parse(response.text, chunk: chunk)
                if let failure = parsed.failure {
                    record.invalid += 1
                    record.skipped.append(ReviewRecord.Skipped(path: chunk.path, reason: "unusable answer: \(failure)", lines: "\(chunk.lines.lowerBound)-\(chunk.lines.upperBound)"))
                    failures.append(failure)
                } else {
                    record.chunks += 1
                    record.invalid += parsed.invalid
                    proposed += parsed.findings
                }
            case let .failure(error):
                if case .cancelled = error { continue }
                record.skipped.append(ReviewRecord.Skipped(path: chunk.path, reason: "generation failed: \(error)", lines: "\(chunk.lines.lowerBound)-\(chunk.lines.upperBound)"))
                failures.append(error.description)
            }
        }
        record.proposed = proposed.count

        var findings: [Finding] = []
        var seen: Set<String> = []
        for item in proposed {
            let lines = headFiles[item.path] ?? []
            if Self.isIgnored(item, lines: lines) {
                record.ignored += 1
                continue
            }
            let identity = "\(item.rule)\u{1F}\(item.path)\u{1F}\(item.line)\u{1F}\(item.endLine)"
            guard seen.insert(identity).inserted else {
                record.duplicates += 1
                continue
            }
            let flagged = item.endLine <= lines.count ? Array(lines[(item.line - 1)...(item.endLine - 1)]) : []
            guard let range = try? SourceRange(startLine: item.line, endLine: item.endLine) else {
                record.invalid += 1
                continue
            }
            let fix = item.replacement.flatMap { try? Fix(startLine: item.line, endLine: item.endLine, replacement: $0) }
            guard let finding = try? Finding(
                ruleID: item.rule, severity: Severity(rawValue: item.severity) ?? .note, message: item.message,
                path: item.path, range: range, flaggedLines: flagged, fix: fix, taskID: task.id
            ) else {
                record.invalid += 1
                continue
            }
            findings.append(finding)
        }

        let filter = ChangedLinesFilter(changes: Self.changedLines(diff), mode: FilterMode(rawValue: review.filter.rawValue) ?? .added)
        let filtered = filter.apply(findings)
        for item in filtered where !item.isReported {
            record.filteredOut[item.placement.rawValue, default: 0] += 1
        }
        let reported = filtered.filter(\.isReported).map(\.finding)
        let status: TaskOutcome.Status = record.chunks == 0 ? .failed : .ok
        let detail = status == .failed ? "no chunk got a usable answer: \(failures.first ?? "")" : ""
        return Outcome(status: status, detail: detail, findings: reported, record: record, requests: answers.count, usage: usage)
    }

    /// A `sparrow-ignore` comment suppresses a finding: at the end of the flagged line, or alone on the line above
    /// it; `sparrow-ignore: rule, rule` suppresses only those rules.
    static func isIgnored(_ finding: ProposedFinding, lines: [String]) -> Bool {
        for number in [finding.line, finding.line - 1] where number >= 1 && number <= lines.count {
            let line = lines[number - 1]
            guard let marker = line.range(of: "sparrow-ignore") else { continue }
            if number != finding.line {
                let trimmed = line.drop { $0 == " " || $0 == "\t" }
                guard ["//", "#", "--", "/*", ";", "<!--", "%"].contains(where: { trimmed.hasPrefix($0) }) else { continue }
            }
            let rest = line[marker.upperBound...]
            guard rest.hasPrefix(":") else { return true }
            let rules = rest.dropFirst().split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init)
            if rules.contains(finding.rule) { return true }
        }
        return false
    }

    /// The lines of a file without line ends (a final newline does not start another line; `\r\n` counts as one).
    static func lines(_ text: String) -> [String] {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.hasSuffix("\r") ? String(line.dropLast()) : String(line)
        }
        if text.hasSuffix("\n") { lines.removeLast() }
        return lines
    }

    static func changedLines(_ diff: Diff) -> ChangedLines {
        var files: [String: ChangedLines.File] = [:]
        for file in diff.files where file.status != .deleted {
            var added: Set<Int> = []
            var context: Set<Int> = []
            for hunk in file.hunks {
                for line in hunk.lines {
                    guard let number = line.newLineNumber else { continue }
                    if line.kind == .added { added.insert(number) } else { context.insert(number) }
                }
            }
            files[file.path.description] = ChangedLines.File(added: added, context: context)
        }
        return ChangedLines(files: files)
    }
}
