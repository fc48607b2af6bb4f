/// One named intermediate result of a forward pass, for comparing against a reference dump (llama.cpp's
/// `llama-eval-callback`, transformers hooks). Names follow llama.cpp's graph (`attn_norm`, `Qcur`, `kqv_out`,
/// `ffn_out`, `l_out`, `result_norm`, `result_output`).
public struct TraceEvent: Sendable {
    /// The result's name.
    public var name: String
    /// The layer, or nil for results outside the layer loop.
    public var layer: Int?
    /// Rows (tokens of the whole batch, in item order) × `columns` values, row-major.
    public var rows: Int
    public var columns: Int
    public var values: [Float]
}

/// Receives every named intermediate result of a forward call, in computation order.
public typealias TraceHook = @Sendable (TraceEvent) -> Void

/// A model whose forward pass can report its named intermediate results (every architecture in `Engine/Models/`).
public protocol TraceableLanguageModel: LanguageModel {
    /// `forward`, reporting every named intermediate result to `trace` (rows are the tokens of all items, in
    /// order).
    func forward(_ items: [ForwardItem], allPositions: Bool, trace: TraceHook?) throws(EngineError) -> [[Float]]
}

extension TraceEvent {
    /// An event holding `count` values at `values`, as `rows` rows.
    init(name: String, layer: Int?, rows: Int, values: UnsafePointer<Float>, count: Int) {
        self.init(name: name, layer: layer, rows: rows, columns: count / rows,
                  values: Array(UnsafeBufferPointer(start: values, count: count)))
    }
}
