/// One sequence's KV cache for every attention layer: per layer, K and V for `capacity` positions of
/// `kvHeads × headDimension` f32 values (`// (layer, position, kvHeads * headDimension)`). The buffers are
/// allocated once, untouched until written, so a large capacity costs address space, not resident memory.
public final class KVCacheState: SequenceState, @unchecked Sendable {
    // Mutated only inside the model's forward call, which the serving layer never runs concurrently for one
    // state (a state belongs to one request at a time; LanguageModel's contract).
    public private(set) var length: Int = 0
    public let capacity: Int
    let layers: Int
    /// Floats per position in one layer's K (and V): kvHeads × headDimension.
    let width: Int
    private let keys: UnsafeMutablePointer<Float>
    private let values: UnsafeMutablePointer<Float>

    init(layers: Int, width: Int, capacity: Int) throws(EngineError) {
        let (perLayer, o1) = capacity.multipliedReportingOverflow(by: width)
        let (total, o2) = perLayer.multipliedReportingOverflow(by: layers)
        guard capacity > 0, !o1, !o2 else {
            throw .invalidInput("KV cache: expected a positive capacity whose size fits in memory, found \(capacity) tokens")
        }
        self.capacity = capacity
        self.layers = layers
        self.width = width
        keys = .allocate(capacity: total)
        values = .allocate(capacity: total)
    }

    deinit {
        keys.deallocate()
        values.deallocate()
    }

    public func truncate(to length: Int) throws(EngineError) {
        guard length >= 0, length <= self.length else {
            throw .invalidInput("truncate: expected a length in 0...\(self.length), found \(length)")
        }
        self.length = length
    }

    /// K of `layer` at `position` (width floats).
    func key(layer: Int, position: Int) -> UnsafeMutablePointer<Float> {
        keys + (layer * capacity + position) * width
    }

    /// V of `layer` at `position` (width floats).
    func value(layer: Int, position: Int) -> UnsafeMutablePointer<Float> {
        values + (layer * capacity + position) * width
    }

    /// Records that `count` more tokens were written at every layer.
    func advance(by count: Int) { length += count }
}
