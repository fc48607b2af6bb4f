import Annotations
import Engine
import Foundation
import Generation

/// `run-info.json`: the volatile facts of a run (times, host, argv, shard, timings), kept out of the deterministic
/// files so those stay byte-identical across runs.
struct RunInfo: Encodable {
    struct TaskTiming: Encodable {
        var id: String
        var status: String
        var seconds: Double
        var requests: Int
        var promptTokens: Int
        /// Prompt tokens taken from the engine's prefix cache instead of computed.
        var cachedPromptTokens: Int
        var completionTokens: Int

        enum CodingKeys: String, CodingKey {
            case id, status, seconds, requests, promptTokens = "prompt_tokens", cachedPromptTokens = "cached_prompt_tokens"
            case completionTokens = "completion_tokens"
        }
    }

    /// Prompt tokens of the whole run: computed by the model, and served from the prefix cache.
    struct PromptTokens: Encodable {
        var computed: Int
        var cached: Int
    }

    var sparrowVersion = SparrowVersion.current
    var started: String
    var finished: String
    var seconds: Double
    var host: String
    var processors: Int
    var cpuFeatures = EngineInfo.cpuFeatures
    var operatingSystem: String
    var arguments: [String]
    var shard: String
    var model: String
    var modelIdentity: String
    var tasks: [TaskTiming]
    var promptTokens: PromptTokens

    enum CodingKeys: String, CodingKey {
        case sparrowVersion = "sparrow_version", started, finished, seconds, host, processors, cpuFeatures = "cpu_features"
        case operatingSystem = "operating_system", arguments, shard, model, modelIdentity = "model_identity", tasks
        case promptTokens = "prompt_tokens"
    }

    init(started: Date, finished: Date, arguments: [String], shard: String, model: String, modelIdentity: String, entries: [JournalEntry]) {
        let formatter = ISO8601DateFormatter()
        self.started = formatter.string(from: started)
        self.finished = formatter.string(from: finished)
        seconds = finished.timeIntervalSince(started)
        host = ProcessInfo.processInfo.hostName
        processors = ProcessInfo.processInfo.activeProcessorCount
        operatingSystem = ProcessInfo.processInfo.operatingSystemVersionString
        self.arguments = arguments
        self.shard = shard
        self.model = model
        self.modelIdentity = modelIdentity
        tasks = entries.map {
            TaskTiming(id: $0.id, status: $0.status.rawValue, seconds: $0.seconds, requests: $0.requests,
                       promptTokens: $0.usage.promptTokens, cachedPromptTokens: $0.usage.cachedPromptTokens,
                       completionTokens: $0.usage.completionTokens)
        }
        let cached = entries.reduce(0) { $0 + $1.usage.cachedPromptTokens }
        promptTokens = PromptTokens(computed: entries.reduce(0) { $0 + $1.usage.promptTokens } - cached, cached: cached)
    }

    func write(to directory: URL) throws(RunnerError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data: Data
        do { data = try encoder.encode(self) } catch { throw .output(path: directory.path, reason: "\(error)") }
        try OutputFiles.atomicWrite(data, to: directory.appendingPathComponent("run-info.json"))
    }
}
