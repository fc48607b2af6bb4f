import Hashing
import Annotations

/// Which part of the queue this process runs: tasks whose SHA-256(id) mod `count` equals `index` (DESIGN.md §8).
public struct Shard: Sendable, Hashable, Codable, CustomStringConvertible {
    /// 0-based.
    public var index: Int
    public var count: Int

    public init(index: Int, count: Int) throws(RunnerError) {
        guard count >= 1, (0..<count).contains(index) else {
            throw .badInput("shard \(index)/\(count): expected I/N with 0 ≤ I < N")
        }
        self.index = index
        self.count = count
    }

    /// Everything, in one process.
    public static let whole = Shard(checkedIndex: 0, count: 1)

    private init(checkedIndex: Int, count: Int) {
        index = checkedIndex
        self.count = count
    }

    public var description: String { "\(index)/\(count)" }

    /// Parses `I/N` (0-based).
    public init(parsing text: String) throws(RunnerError) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]) else {
            throw .badInput("--shard \(text): expected I/N, such as 0/4 (0-based)")
        }
        try self.init(index: index, count: count)
    }

    /// The shard from CI variables when no `--shard` is given: Kubernetes Indexed Jobs (`JOB_COMPLETION_INDEX`,
    /// with N from `countOverride` or `SPARROW_SHARDS`) or GitLab `parallel:` (`CI_NODE_INDEX`/`CI_NODE_TOTAL`,
    /// 1-based). nil when none is set.
    public static func fromEnvironment(_ environment: [String: String], countOverride: Int? = nil) throws(RunnerError) -> Shard? {
        if let indexText = environment["JOB_COMPLETION_INDEX"] {
            guard let index = Int(indexText) else { throw .badInput("JOB_COMPLETION_INDEX=\(indexText) is not a number") }
            guard let count = countOverride ?? environment["SPARROW_SHARDS"].flatMap(Int.init) else {
                throw .badInput("JOB_COMPLETION_INDEX is set but the shard count is not: set SPARROW_SHARDS (the Job's completions)")
            }
            return try Shard(index: index, count: count)
        }
        if let indexText = environment["CI_NODE_INDEX"], let totalText = environment["CI_NODE_TOTAL"] {
            guard let index = Int(indexText), let total = Int(totalText) else {
                throw .badInput("CI_NODE_INDEX=\(indexText) / CI_NODE_TOTAL=\(totalText) are not numbers")
            }
            return try Shard(index: index - 1, count: total)
        }
        return nil
    }

    /// True when task `id` belongs to this shard.
    public func contains(taskID id: String) -> Bool {
        guard count > 1 else { return true }
        let digest = SHA256.digest(Array(id.utf8))
        // The digest as a big-endian number, reduced mod count byte by byte.
        var remainder = 0
        for byte in digest { remainder = (remainder * 256 + Int(byte)) % count }
        return remainder == index
    }
}
