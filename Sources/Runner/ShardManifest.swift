import Foundation

/// `shard.json`: which part of which run a shard output folder holds, so `sparrow merge` can check the set.
struct ShardManifest: Codable, Hashable {
    var index: Int
    var count: Int
    /// SHA-256 of the spec file: shards of different specs never merge.
    var specHash: String
    /// Every task id of the spec, in spec order (the order of the merged outputs).
    var allTaskIDs: [String]
    /// The ids this shard ran.
    var taskIDs: [String]
    var formats: [String]
    var failOn: String

    enum CodingKeys: String, CodingKey {
        case index, count, specHash = "spec_hash", allTaskIDs = "all_task_ids", taskIDs = "task_ids", formats
        case failOn = "fail_on"
    }

    static let fileName = "shard.json"

    func write(to directory: URL) throws(RunnerError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data: Data
        do { data = try encoder.encode(self) } catch { throw .output(path: directory.path, reason: "\(error)") }
        try OutputFiles.atomicWrite(data, to: directory.appendingPathComponent(Self.fileName))
    }

    static func read(from directory: URL) throws(RunnerError) -> ShardManifest {
        let url = directory.appendingPathComponent(fileName)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw .incompleteShards("\(directory.path) has no \(fileName) (is it the output folder of a `sparrow run --shard I/N`?)")
        }
        do { return try JSONDecoder().decode(ShardManifest.self, from: data) } catch {
            throw .incompleteShards("\(url.path) is not a shard manifest: \(error)")
        }
    }
}
