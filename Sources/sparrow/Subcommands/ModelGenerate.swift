import ArgumentParser
import Dispatch
import Engine
import Foundation
import Generation
import Tokenizers

/// `sparrow model generate MODEL.gguf --prompt TEXT [--chat] [--max-tokens N] [--json]`: one answer from the
/// local engine, with tokens/s on standard error.
struct ModelGenerate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate from a prompt with the local engine (greedy unless --temperature)."
    )

    @Argument(help: "The GGUF model file.")
    var model: String

    @Option(help: "The prompt text.")
    var prompt: String

    @Flag(help: "Send the prompt as a user message through the model's chat template.")
    var chat = false

    @Option(help: "Most tokens to generate.")
    var maxTokens = 64

    @Option(help: "Sampling temperature (0: greedy).")
    var temperature = 0.0

    @Option(help: "Sampling seed.")
    var seed: UInt64 = 0

    @Option(help: "Worker threads (0: one per core).")
    var threads = 0

    @Flag(help: "Print one JSON document: prompt ids, generated ids and text.")
    var json = false

    func run() async throws {
        let loadStart = DispatchTime.now().uptimeNanoseconds
        let loaded: LoadedModel
        do {
            loaded = try ModelLoader.load(path: model, threads: threads > 0 ? threads : nil)
        } catch {
            FileHandle.standardError.write(Data("sparrow: \(error)\n".utf8))
            throw ExitCode(2)
        }
        let loadSeconds = Double(DispatchTime.now().uptimeNanoseconds - loadStart) / 1e9
        let engine = LocalEngine(
            languageModel: loaded.model, tokenizer: loaded.tokenizer.tokenizer, chatTemplate: loaded.tokenizer.chatTemplate,
            identity: loaded.identity, settings: LocalEngine.Settings(parallel: 1)
        )
        let request = GenerationRequest(
            id: "generate", prompt: chat ? .chat([ChatMessage(role: .user, content: prompt)]) : .text(prompt),
            maxTokens: maxTokens, sampling: SamplingParameters(temperature: temperature, seed: seed)
        )
        let promptIDs = try engine.tokens(for: request.prompt)
        let start = DispatchTime.now().uptimeNanoseconds
        let response: GenerationResponse
        do {
            response = try await engine.generate(request)
        } catch {
            FileHandle.standardError.write(Data("sparrow: \(error)\n".utf8))
            throw ExitCode(3)
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let rate = String(format: "load %.2f s; %d prompt + %d generated tokens in %.2f s (%.1f tokens/s overall)\n",
                          loadSeconds, response.usage.promptTokens, response.usage.completionTokens, seconds,
                          Double(response.usage.completionTokens) / max(seconds, 1e-9))
        FileHandle.standardError.write(Data("sparrow: \(rate)".utf8))
        if json {
            let generatedIDs = loaded.tokenizer.tokenizer.encode(response.text)
            let document: [String: Any] = [
                "prompt_ids": promptIDs.map(Int.init), "text": response.text, "finish_reason": response.finishReason.rawValue,
                "generated_tokens": response.usage.completionTokens, "generated_ids_retokenized": generatedIDs.map(Int.init),
            ]
            FileHandle.standardOutput.write(try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys]) + Data("\n".utf8))
        } else {
            print(response.text)
        }
    }
}
