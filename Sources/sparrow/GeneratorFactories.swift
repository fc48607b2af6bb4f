import Engine
import Foundation
import Generation
import GGUF
import Jobs
import Kernels
import Remote
import Runner

/// Builds the generator a spec asks for: the local engine for `model.path`, the remote client for `model.url`.
enum GeneratorFactories {
    @Sendable static func make(_ model: ResolvedModel) async throws -> any TextGenerating {
        let environment = ProcessInfo.processInfo.environment
        let generator = try await makeBackend(model, constrained: environment["SPARROW_DEBUG_NO_CONSTRAINTS"] != "1")
        if let path = environment["SPARROW_DEBUG_ANSWERS"], !path.isEmpty {
            return try AnswerLog(wrapping: generator, path: path)
        }
        return generator
    }

    /// One stderr line on weights read into memory: time, bytes, how many landed on huge pages; and a warning when
    /// the default cache budget left beside them (`defaultBudget`, nil when `model.memory` is set) is small.
    private static func reportWeightsInMemory(_ loaded: LoadedModel, held: Int, since started: ContinuousClock.Instant,
                                              budget defaultBudget: Int?)
    {
        let elapsed = (ContinuousClock.now - started).components
        let seconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) * 1e-18
        let huge = min(ResidentMemory.hugePageBytes() ?? 0, held)
        let what = loaded.repackedBytes > 0 ? "read into memory and repacked" : "read into memory"
        var line = String(format: "sparrow: model loaded in %.1f s: %.2f GB %@, %.2f GB of it on huge pages",
                          seconds, Double(held) / 1e9, what, Double(huge) / 1e9)
        if huge == 0 { line += " (none: see /sys/kernel/mm/transparent_hugepage/enabled)" }
        StandardError.write(line)
        if let defaultBudget, defaultBudget < 1 << 30 {
            StandardError.write("sparrow: warning: the weights in memory leave \(defaultBudget >> 20) MiB of the default "
                                + "cache budget; set model.memory or use model.weights: mapped")
        }
    }

    /// The generator itself. `constrained: false` (`SPARROW_DEBUG_NO_CONSTRAINTS=1`, for measuring what the
    /// constraint is worth) leaves the local engine's answers unconstrained; they are still parsed strictly.
    private static func makeBackend(_ model: ResolvedModel, constrained: Bool) async throws -> any TextGenerating {
        switch model.source {
        case let .file(path):
            let settings = model.settings
            let cacheBytes = settings.memory.map { Int($0.bytes) }
            let (weights, autoLine) = settings.weights.resolved(forFile: path, cacheBytes: cacheBytes)
            if let autoLine { StandardError.write("sparrow: " + autoLine) }
            let storage = weights.storage, repack = weights.repack
            let started = ContinuousClock.now
            if storage == .memory {
                StandardError.write("sparrow: reading \(path) into memory (model.weights: \(weights.rawValue))")
            }
            if repack {
                StandardError.write(WeightRepacker.isAvailable
                    ? "sparrow: repacking \(path)'s Q4_K and Q6_K matrices (model.weights: repacked)"
                    : "sparrow: model.weights: repacked: this CPU has no repacked kernels (AVX2 or AVX-512 VNNI); the weights are only read into memory")
            }
            let loaded = try ModelLoader.load(path: path, threads: settings.threads > 0 ? settings.threads : nil,
                                              storage: storage, repack: repack)
            // Weights held in memory come out of the default cache budget; an explicit `model.memory` stands.
            let held = loaded.heldBytes
            let budget = cacheBytes ?? LocalEngine.defaultMemoryBudget(heldWeights: held)
            if storage == .memory {  // every choice that repacks reads the file into memory too
                reportWeightsInMemory(loaded, held: held, since: started, budget: cacheBytes == nil ? budget : nil)
            }
            return LocalEngine(
                languageModel: loaded.model, tokenizer: loaded.tokenizer.tokenizer, chatTemplate: loaded.tokenizer.chatTemplate,
                identity: loaded.identity,
                settings: LocalEngine.Settings(
                    contextLength: settings.context, parallel: settings.parallel,
                    memoryBudget: budget
                ),
                constraintCompiler: constrained ? ConstraintCompilers.jsonSchema(for: loaded.tokenizer.tokenizer) : nil
            )
        case let .server(url, name, apiKeyVariable, timeoutSeconds):
            let configuration = try RemoteConfiguration(
                url: url, name: name, apiKeyEnv: apiKeyVariable, timeout: Double(timeoutSeconds),
                context: model.settings.context ?? 32_768, parallel: model.settings.parallel
            )
            return try RemoteClient(configuration: configuration) { notice in
                StandardError.write("sparrow: retrying: \(notice)")
            }
        }
    }
}
