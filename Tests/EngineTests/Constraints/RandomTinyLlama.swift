import Foundation
import GGUF
import TestSupport
import Tokenizers

/// A `llama` GGUF with seeded Gaussian weights (F32, 64 wide, 2 layers, 4 heads / 2 KV heads, tied embeddings),
/// written with `GGUFWriter` so the engine's real loader, forward pass and scheduler run over it. Its vocabulary
/// is byte-level: the 256 single bytes, JSON-ish multi-byte tokens that cross structure boundaries (`{"`, `":[`,
/// `},{` …), whole multi-byte characters (`é`, `日本`, 😀) and tokens that cut UTF-8 characters apart (the first two
/// bytes of `日`, a continuation byte followed by `"` …), so token and character boundaries disagree as in real
/// vocabularies; then `<|im_start|>` and `<|endoftext|>` (end of generation).
enum RandomTinyLlama {
    static let width = 64
    static let feedForward = 96
    static let layers = 2
    static let heads = 4
    static let kvHeads = 2
    static let headDimension = 16

    /// Byte strings of the multi-byte tokens beyond the 256 single bytes.
    static var multiBytePieces: [[UInt8]] {
        let text = [
            "{\"", "\":", "\",\"", "\"}", "\"]", "},{", "}]", "[{", "\":\"", "\":[", "\":{", "\"\"", "[]", "{}", "true",
            "false", "null", "tr", "ue", "fa", "lse", ",\"", "\\n", "\\\"", "\\\\", "\\u00", "\\u", "12", "-1", "00", "000",
            " the", "ing", "é", "日本", "日本語", "\u{1F600}", "\"x", "x\"", "a\"b", "\n", "\t", "1,", "2]", "0}", "\"a", "ab",
            "abc", "key", "file", "line", "severity", "error", "warning", "note", "message", "\"\n", "ключ", "q\\\"", "x/y",
        ].map { Array($0.utf8) }
        // Pieces of UTF-8 characters: 日 = E6 97 A5, 本 = E6 9C AC, é = C3 A9, 😀 = F0 9F 98 80.
        let partial: [[UInt8]] = [[0xE6, 0x97], [0xA5, 0xE6], [0x9C, 0xAC], [0xA5, 0x22], [0xF0, 0x9F], [0x98, 0x80, 0x22], [0xC3], [0xA9, 0x22, 0x7D], [0x80, 0x5D]]
        return text + partial
    }

    /// The vocabulary as GGUF token strings (byte-level spelling) and their types.
    static func vocabulary() -> (tokens: [String], types: [TokenType]) {
        var tokens = (0..<256).map { String(ByteLevel.scalarForByte[$0]) }
        var seen = Set(tokens)
        for piece in multiBytePieces {
            let spelled = ByteLevel.encode(piece)
            if seen.insert(spelled).inserted { tokens.append(spelled) }
        }
        var types = [TokenType](repeating: .normal, count: tokens.count)
        tokens += ["<|im_start|>", "<|endoftext|>"]
        types += [.control, .control]
        return (tokens, types)
    }

    /// Writes the model to `url`; the same seed gives the same bytes.
    static func write(to url: URL, seed: UInt64, contextLength: Int = 1024) throws {
        let (tokens, types) = vocabulary()
        var writer = try GGUFWriter()
        try writer.set("general.architecture", .string("llama"))
        try writer.set("general.name", .string("random-tiny-llama-\(seed)"))
        try writer.set("llama.block_count", .uint32(UInt32(layers)))
        try writer.set("llama.context_length", .uint32(UInt32(contextLength)))
        try writer.set("llama.embedding_length", .uint32(UInt32(width)))
        try writer.set("llama.feed_forward_length", .uint32(UInt32(feedForward)))
        try writer.set("llama.attention.head_count", .uint32(UInt32(heads)))
        try writer.set("llama.attention.head_count_kv", .uint32(UInt32(kvHeads)))
        try writer.set("llama.rope.freq_base", .float32(10_000))
        try writer.set("llama.attention.layer_norm_rms_epsilon", .float32(1e-5))
        try writer.set("llama.vocab_size", .uint32(UInt32(tokens.count)))
        try writer.set("tokenizer.ggml.model", .string("gpt2"))
        try writer.set("tokenizer.ggml.pre", .string("qwen2"))
        try writer.set("tokenizer.ggml.tokens", .array(.string(tokens)))
        try writer.set("tokenizer.ggml.token_type", .array(.int32(types.map(\.rawValue))))
        try writer.set("tokenizer.ggml.merges", .array(.string([])))
        try writer.set("tokenizer.ggml.eos_token_id", .uint32(UInt32(tokens.count - 1)))

        var generator = SeededGenerator(seed: seed)
        func gaussian(_ count: Int, scale: Double, mean: Double = 0) -> Data {
            var data = Data(capacity: count * 4)
            for _ in 0..<count {
                let value = Float(mean + scale * generator.normal())
                withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) }
            }
            return data
        }
        func add(_ name: String, _ dimensions: [Int], scale: Double, mean: Double = 0) throws {
            try writer.addTensor(name: name, dimensions: dimensions, type: GGUFTensorType(.f32),
                                 data: gaussian(dimensions.reduce(1, *), scale: scale, mean: mean))
        }
        // Shapes in ggml order (ne[0], the row length, first). Embedding scale 0.25 keeps the tied output's logits
        // within a few units, so temperature 1.5 spreads the choice over many tokens.
        try add("token_embd.weight", [width, tokens.count], scale: 0.25)
        for layer in 0..<layers {
            try add("blk.\(layer).attn_norm.weight", [width], scale: 0.1, mean: 1)
            try add("blk.\(layer).attn_q.weight", [width, heads * headDimension], scale: 0.2)
            try add("blk.\(layer).attn_k.weight", [width, kvHeads * headDimension], scale: 0.2)
            try add("blk.\(layer).attn_v.weight", [width, kvHeads * headDimension], scale: 0.2)
            try add("blk.\(layer).attn_output.weight", [heads * headDimension, width], scale: 0.2)
            try add("blk.\(layer).ffn_norm.weight", [width], scale: 0.1, mean: 1)
            try add("blk.\(layer).ffn_gate.weight", [width, feedForward], scale: 0.2)
            try add("blk.\(layer).ffn_up.weight", [width, feedForward], scale: 0.2)
            try add("blk.\(layer).ffn_down.weight", [feedForward, width], scale: 0.15)
        }
        try add("output_norm.weight", [width], scale: 0.1, mean: 1)
        try writer.write(to: url)
    }
}
