import GGUF

/// The `<arch>.*` metadata a decoder-only transformer needs (llama.cpp's `llm_load_hparams`), read once at load.
struct HyperParameters: Sendable {
    var architecture: String
    /// `<arch>.embedding_length`.
    var embeddingLength: Int
    /// `<arch>.block_count`.
    var layerCount: Int
    /// `<arch>.attention.head_count`.
    var headCount: Int
    /// `<arch>.attention.head_count_kv` (defaults to head_count).
    var kvHeadCount: Int
    /// `<arch>.attention.key_length` (defaults to embedding_length / head_count).
    var headDimension: Int
    /// `<arch>.attention.value_length` (defaults to key_length).
    var valueDimension: Int
    /// `<arch>.rope.dimension_count` (defaults to key_length).
    var ropeDimensions: Int
    /// `<arch>.rope.freq_base` (defaults to 10000).
    var ropeBase: Float
    /// `<arch>.attention.layer_norm_rms_epsilon`.
    var rmsEpsilon: Float
    /// `<arch>.context_length`.
    var contextLength: Int
    /// `<arch>.feed_forward_length` (dense FFN; 0 when absent).
    var feedForwardLength: Int
    /// `<arch>.expert_count`, `<arch>.expert_used_count`, `<arch>.expert_feed_forward_length` (MoE only; else 0).
    var expertCount: Int
    var expertUsedCount: Int
    var expertFeedForwardLength: Int

    init(metadata: GGUFMetadata, architecture: String, path: String) throws(EngineError) {
        let a = architecture
        func fail(_ error: any Error) -> EngineError { .model(path: path, reason: "\(error)") }
        func required(_ key: String) throws(EngineError) -> Int {
            do { return try metadata.integer("\(a).\(key)") } catch { throw fail(error) }
        }
        func optional(_ key: String) throws(EngineError) -> Int? {
            do { return try metadata.optionalInteger("\(a).\(key)") } catch { throw fail(error) }
        }
        func real(_ key: String) throws(EngineError) -> Double? {
            guard metadata["\(a).\(key)"] != nil else { return nil }
            do { return try metadata.double("\(a).\(key)") } catch { throw fail(error) }
        }
        self.architecture = a
        embeddingLength = try required("embedding_length")
        layerCount = try required("block_count")
        headCount = try required("attention.head_count")
        // A per-layer array of KV head counts (Ollama writes one) is accepted when all layers agree; a 0 marks a
        // layer without attention (qwen3next's linear-attention layers) and is skipped.
        if let array = metadata["\(a).attention.head_count_kv"]?.arrayValue {
            let all = (0..<array.count).compactMap { array.element($0)?.integerValue }
            let values = all.filter { $0 != 0 }
            guard let first = values.first, all.count == array.count, values.allSatisfy({ $0 == first }) else {
                throw .model(path: path, reason: "\(a).attention.head_count_kv: expected one KV head count for every layer")
            }
            kvHeadCount = first
        } else {
            kvHeadCount = try optional("attention.head_count_kv") ?? headCount
        }
        guard headCount > 0, kvHeadCount > 0, headCount % kvHeadCount == 0, embeddingLength > 0, layerCount > 0 else {
            throw .model(path: path, reason: "\(a): expected positive sizes and head_count (\(headCount)) a multiple of "
                         + "head_count_kv (\(kvHeadCount))")
        }
        headDimension = try optional("attention.key_length") ?? embeddingLength / headCount
        valueDimension = try optional("attention.value_length") ?? headDimension
        guard valueDimension == headDimension, headDimension > 0, headDimension % 2 == 0 else {
            throw .model(path: path, reason: "\(a): expected equal, even key and value head sizes, found "
                         + "\(headDimension) and \(valueDimension)")
        }
        ropeDimensions = try optional("rope.dimension_count") ?? headDimension
        guard ropeDimensions > 0, ropeDimensions <= headDimension, ropeDimensions % 2 == 0 else {
            throw .model(path: path, reason: "\(a).rope.dimension_count: expected an even count ≤ \(headDimension), found \(ropeDimensions)")
        }
        ropeBase = Float(try real("rope.freq_base") ?? 10000)
        guard let eps = try real("attention.layer_norm_rms_epsilon") else {
            throw .model(path: path, reason: "expected metadata key \(a).attention.layer_norm_rms_epsilon")
        }
        rmsEpsilon = Float(eps)
        contextLength = try optional("context_length") ?? 4096
        feedForwardLength = try optional("feed_forward_length") ?? 0
        expertCount = try optional("expert_count") ?? 0
        expertUsedCount = try optional("expert_used_count") ?? 0
        expertFeedForwardLength = try optional("expert_feed_forward_length") ?? 0
    }
}
