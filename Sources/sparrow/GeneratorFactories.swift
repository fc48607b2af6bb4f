import Engine
import Foundation
import Generation
import GGUF
import Jobs
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

    /// The generator itself. `constrained: false` (`SPARROW_DEBUG_NO_CONSTRAINTS=1`, for measuring what the
    /// constraint is worth) leaves the local engine's answers unconstrained; they are still parsed strictly.
    private static func makeBackend(_ model: ResolvedModel, constrained: Bool) async throws -> any TextGenerating {
        switch model.source {
        case let .file(path):
            let settings = model.settings
            let storage: GGUFStorage = settings.weights == .memory ? .memory : .mapped
            let started = ContinuousClock.now
            if storage == .memory { StandardError.write("sparrow: reading \(path) into memory (model.weights: memory)") }
            let loaded = try ModelLoader.load(path: path, threads: settings.threads > 0 ? settings.threads : nil,
                                              storage: storage)
            if storage == .memory {
                let elapsed = (ContinuousClock.now - started).components
                let seconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) * 1e-18
                StandardError.write(String(format: "sparrow: read %.2f GB in %.1f s", Double(loaded.fileSize) / 1e9, seconds))
            }
            // Weights read into memory come out of the default cache budget (¾ of RAM); an explicit budget stands.
            let defaultBudget = storage == .memory
                ? max(64 << 20, Int(Double(ProcessInfo.processInfo.physicalMemory) * 0.75) - loaded.fileSize) : nil
            return LocalEngine(
                languageModel: loaded.model, tokenizer: loaded.tokenizer.tokenizer, chatTemplate: loaded.tokenizer.chatTemplate,
                identity: loaded.identity,
                settings: LocalEngine.Settings(
                    contextLength: settings.context, parallel: settings.parallel,
                    memoryBudget: settings.memory.map { Int($0.bytes) } ?? defaultBudget
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
