/// Why a run could not start or finish. Each case maps to an exit code (DESIGN.md §4): bad input is 2.
public enum RunnerError: Error, Sendable, CustomStringConvertible {
    /// The spec, an argument or an environment variable is wrong; nothing ran.
    case badInput(String)
    /// The output folder already holds a journal and `--resume` was not given.
    case journalExists(path: String)
    /// The output folder could not be written.
    case output(path: String, reason: String)
    /// `sparrow merge` was given shard outputs that do not form one complete run.
    case incompleteShards(String)

    public var description: String {
        switch self {
        case let .badInput(message): message
        case let .journalExists(path):
            "\(path) already exists: pass --resume to continue that run, or choose another --out folder"
        case let .output(path, reason): "cannot write \(path): \(reason)"
        case let .incompleteShards(reason): "merge: \(reason)"
        }
    }

    /// The process exit status for this error.
    public var exitCode: Int32 {
        switch self {
        case .badInput, .journalExists, .incompleteShards: 2
        case .output: 3
        }
    }
}
