import ArgumentParser
import Dispatch
import Engine
import Foundation
import GGUF
import Tokenizers

/// `sparrow model tokenize MODEL.gguf TEXT [--file PATH] [--json]`: token ids of plain text (special tokens
/// disabled, no BOS), as the engine tokenizes repository content.
struct ModelTokenize: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Token ids of text, tokenized as plain text (control-token spellings stay ordinary text)."
    )

    @Argument(help: "The GGUF model file.")
    var model: String

    @Argument(help: "The text (omit it with --file).")
    var text: String?

    @Option(help: "Read the text from this file instead (its bytes as UTF-8).")
    var file: String?

    @Flag(help: "Print one JSON document: ids, and the pieces as text.")
    var json = false

    @Option(help: "Also encode the text this many times and print the median speed on standard error (benchmarks).")
    var benchmarkRepeats: Int?

    func validate() throws {
        if (text == nil) == (file == nil) { throw ValidationError("give either TEXT or --file PATH") }
    }

    func run() throws {
        let input: String
        if let file {
            guard let data = FileManager.default.contents(atPath: file) else {
                FileHandle.standardError.write(Data("sparrow: \(file): cannot read the file\n".utf8))
                throw ExitCode(2)
            }
            input = String(decoding: data, as: UTF8.self)
        } else {
            input = text ?? ""
        }
        let tokenizer: Tokenizer
        do {
            let gguf = try GGUFFile(contentsOf: URL(fileURLWithPath: model))
            tokenizer = try GGUFTokenizer(metadata: gguf.metadata, path: model).tokenizer
        } catch {
            FileHandle.standardError.write(Data("sparrow: \(model): \(error)\n".utf8))
            throw ExitCode(2)
        }
        let ids = tokenizer.encode(input)
        if let repeats = benchmarkRepeats, repeats > 0 {
            var seconds: [Double] = []
            for _ in 0..<repeats {
                let start = DispatchTime.now().uptimeNanoseconds
                _ = tokenizer.encode(input)
                seconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            }
            seconds.sort()
            let median = seconds[seconds.count / 2]
            let line = String(format: "sparrow: %d bytes, %d tokens, median %.4f s over %d runs (min %.4f, max %.4f): %.0f tokens/s\n",
                              input.utf8.count, ids.count, median, repeats, seconds[0], seconds[seconds.count - 1], Double(ids.count) / median)
            FileHandle.standardError.write(Data(line.utf8))
        }
        if json {
            let pieces = ids.map { String(decoding: tokenizer.bytes(of: $0), as: UTF8.self) }
            let document: [String: Any] = ["ids": ids.map(Int.init), "pieces": pieces, "count": ids.count]
            let data = try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys])
            FileHandle.standardOutput.write(data + Data("\n".utf8))
        } else {
            print(ids.map(String.init).joined(separator: " "))
        }
    }
}
