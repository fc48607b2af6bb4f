public import Annotations
public import Foundation

/// The deterministic files of DESIGN.md §5, rebuilt from journal entries: the same entries give the same bytes
/// (no times, hosts or argv). Each file is written to a temporary name, then renamed into place.
public struct OutputFiles {
    /// What writing produced, for the summary and the exit code.
    public struct Summary: Sendable {
        public var findings: [Finding]
        /// Findings suppressed because `--baseline` already had their fingerprint.
        public var baselineSuppressed: Int
        /// SARIF results left out to stay within GitHub's limits.
        public var sarifOmitted: Int
        /// Files written, relative to the output folder.
        public var files: [String]
        /// GitHub workflow commands (when the `github` format is on), to print on standard output.
        public var githubCommands: String?
        /// The Markdown step summary (when the `github` format is on).
        public var githubSummary: String?
    }

    public let directory: URL
    public let formats: Set<String>
    /// Fingerprints to suppress (from `--baseline OLD.sarif`).
    public let baseline: Set<String>

    public init(directory: URL, formats: Set<String>, baseline: Set<String> = []) {
        self.directory = directory
        self.formats = formats
        self.baseline = baseline
    }

    /// Writes every selected format for `entries` (in task order).
    public func write(_ entries: [JournalEntry]) throws(RunnerError) -> Summary {
        let all = entries.flatMap(\.findings)
        let fingerprinted: [Finding]
        do { fingerprinted = try Fingerprinter.assign(all) } catch {
            throw .output(path: directory.path, reason: "fingerprints: \(error)")
        }
        let kept = fingerprinted.filter { !baseline.contains($0.fingerprint) }
        var summary = Summary(
            findings: kept, baselineSuppressed: fingerprinted.count - kept.count, sarifOmitted: 0, files: [],
            githubCommands: nil, githubSummary: nil
        )
        let outcomes = entries.map { TaskOutcome(id: $0.id, kind: $0.kind, status: $0.status, detail: $0.detail) }
        do {
            if formats.contains("sarif") {
                let output = try SARIFWriter(tool: ToolInfo(name: "sparrow", version: SparrowVersion.current, informationURI: nil)).write(kept)
                summary.sarifOmitted = output.omittedResults
                try save(output.text, as: "sparrow.sarif", into: &summary)
            }
            if formats.contains("gitlab") { try save(try GitLabCodeQualityWriter().write(kept), as: "gl-code-quality.json", into: &summary) }
            if formats.contains("rdjsonl") { try save(try RDJSONLWriter().write(kept), as: "annotations.rdjsonl", into: &summary) }
            if formats.contains("checkstyle") { try save(CheckstyleWriter().write(kept), as: "checkstyle.xml", into: &summary) }
            if formats.contains("junit") { try save(JUnitWriter().write(tasks: outcomes, findings: kept), as: "junit.xml", into: &summary) }
            if formats.contains("github") {
                summary.githubCommands = GitHubWorkflowCommandsWriter().write(kept)
                summary.githubSummary = GitHubStepSummaryWriter().write(kept)
            }
            try writeTaskFiles(entries, into: &summary)
        } catch let error as RunnerError {
            throw error
        } catch {
            throw .output(path: directory.path, reason: "\(error)")
        }
        return summary
    }

    /// `patches/<id>.patch` for each entry with a patch, and `tests/<id>/<path>` for each kept test file.
    private func writeTaskFiles(_ entries: [JournalEntry], into summary: inout Summary) throws(RunnerError) {
        for entry in entries {
            let name = Self.fileName(entry.id)
            if let patch = entry.patch {
                try makeDirectory("patches")
                try save(patch, as: "patches/\(name).patch", into: &summary)
            }
            for file in entry.testFiles ?? [] where EditGuard.problem(with: file.path) == nil {
                let relative = "tests/\(name)/\(file.path)"
                try makeDirectory((relative as NSString).deletingLastPathComponent)
                try save(file.text, as: relative, into: &summary)
            }
        }
    }

    private func makeDirectory(_ relative: String) throws(RunnerError) {
        let url = directory.appendingPathComponent(relative, isDirectory: true)
        do { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) } catch {
            throw .output(path: url.path, reason: error.localizedDescription)
        }
    }

    /// A task id as one file name (no `/`, no leading dot).
    static func fileName(_ id: String) -> String {
        var name = id.replacingOccurrences(of: "/", with: "_")
        while name.hasPrefix(".") { name = "_" + name.dropFirst() }
        return name.isEmpty ? "_" : name
    }

    private func save(_ text: String, as name: String, into summary: inout Summary) throws(RunnerError) {
        try Self.atomicWrite(Data(text.utf8), to: directory.appendingPathComponent(name))
        summary.files.append(name)
    }

    /// Writes `data` to a temporary file beside `url`, then renames it over `url`.
    static func atomicWrite(_ data: Data, to url: URL) throws(RunnerError) {
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
        do {
            try data.write(to: temporary)
            if rename(temporary.path, url.path) != 0 {
                throw RunnerError.output(path: url.path, reason: String(cString: strerror(errno)))
            }
        } catch let error as RunnerError {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw .output(path: url.path, reason: error.localizedDescription)
        }
    }
}
