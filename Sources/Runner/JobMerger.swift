import Annotations
public import Foundation
import Jobs

/// `sparrow merge DIR…`: joins the outputs of shards 0..N-1 of one run into the files an unsharded run writes.
public enum JobMerger {
    public static func merge(_ directories: [URL], into output: URL, environment: [String: String]) throws(RunnerError) -> RunResult {
        guard !directories.isEmpty else { throw .badInput("merge: name the output folders of the shards") }
        var manifests: [(URL, ShardManifest)] = []
        for directory in directories { manifests.append((directory, try ShardManifest.read(from: directory))) }
        let first = manifests[0].1
        for (directory, manifest) in manifests {
            guard manifest.specHash == first.specHash, manifest.count == first.count, manifest.allTaskIDs == first.allTaskIDs else {
                throw .incompleteShards("\(directory.path) is a shard of a different run (spec or shard count differs from \(manifests[0].0.path))")
            }
        }
        let indices = manifests.map(\.1.index)
        let missing = (0..<first.count).filter { !indices.contains($0) }
        let duplicated = Set(indices.filter { index in indices.filter { $0 == index }.count > 1 })
        guard missing.isEmpty, duplicated.isEmpty else {
            var reasons: [String] = []
            if !missing.isEmpty { reasons.append("missing shard\(missing.count == 1 ? "" : "s") \(missing.map { "\($0)/\(first.count)" }.joined(separator: ", "))") }
            if !duplicated.isEmpty { reasons.append("shard \(duplicated.sorted().map(String.init).joined(separator: ", ")) given twice") }
            throw .incompleteShards(reasons.joined(separator: "; ") + "; nothing was written")
        }
        var entries: [String: JournalEntry] = [:]
        for (directory, manifest) in manifests {
            let url = directory.appendingPathComponent("results.jsonl")
            guard let data = FileManager.default.contents(atPath: url.path) else {
                throw .incompleteShards("\(directory.path) has no results.jsonl")
            }
            let parsed = try Journal.parse(data, path: url.path).entries
            var latest: [String: JournalEntry] = [:]
            for entry in parsed { latest[entry.id] = entry }
            for id in manifest.taskIDs {
                guard let entry = latest[id] else {
                    throw .incompleteShards("shard \(manifest.index)/\(manifest.count) in \(directory.path) did not finish task \(id) (rerun it with --resume)")
                }
                entries[id] = entry
            }
        }
        let ordered = first.allTaskIDs.compactMap { entries[$0] }
        do {
            try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        } catch {
            throw .output(path: output.path, reason: error.localizedDescription)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var journal = Data()
        for entry in ordered {
            if let line = try? encoder.encode(entry) {
                journal.append(line)
                journal.append(UInt8(ascii: "\n"))
            }
        }
        try OutputFiles.atomicWrite(journal, to: output.appendingPathComponent("results.jsonl"))
        let formats = Set(first.formats + (environment["GITHUB_ACTIONS"] == "true" ? ["github"] : []))
        let written = try OutputFiles(directory: output, formats: formats).write(ordered)
        let failOn = FailLevel(rawValue: first.failOn) ?? .error
        return RunResult(
            exitCode: ExitStatus.code(entries: ordered, findings: written.findings, failOn: failOn),
            outputDirectory: output.path,
            summary: "merged \(first.count) shards: " + JobRunner.summary(entries: ordered, written: written),
            githubCommands: written.githubCommands
        )
    }
}
