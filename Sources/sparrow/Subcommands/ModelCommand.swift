import ArgumentParser

/// `sparrow model …`: commands that look at one GGUF model file.
struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Inspect a GGUF model file.",
        subcommands: [ModelInfo.self, ModelTokenize.self, ModelLogits.self]
    )
}
