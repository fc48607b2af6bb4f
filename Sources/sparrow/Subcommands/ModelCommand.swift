import ArgumentParser

/// `sparrow model …`: commands that look at one GGUF model file.
struct ModelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Inspect a GGUF model file.",
        subcommands: [ModelInfo.self, ModelTokenize.self, ModelGenerate.self, ModelLogits.self]
    )
}
