internal import Kernels

/// One sequence's KV cache for every attention layer, in pages of `pageSize` positions: a page holds, per layer,
/// K and V of its positions, each head's positions together (`// (layer, kvHeads, pageSize, headDimension)` floats
/// each), so attention, which reads one KV head per thread, streams runs of `pageSize · headDimension` floats instead
/// of a head's slice of every position's row (measured 2026-11-30, 8 layers × 2,048 positions of 4 heads × 128
/// from memory, 1 row, 2 threads: 4.9-5.2 ms per step against 6.1-6.3 with a position's heads side by side). Pages are
/// allocated when first written, so a large capacity costs nothing until used.
///
/// Pages are shareable (the prefix cache, `PrefixSharingState`): a full page of a prompt is never written again
/// (the model only appends at `length`), so other sequences with the same first tokens may adopt it as is. A
/// shared page is copied before this state could write into it again (after `truncate` into it): copy on write.
public final class KVCacheState: PrefixSharingState, @unchecked Sendable {
    // Mutated only inside the model's forward call and by the serving layer between calls, never concurrently
    // for one state (a state belongs to one request at a time; LanguageModel's contract).
    public private(set) var length: Int = 0
    public let capacity: Int
    let layers: Int
    /// Floats per position in one layer's K (and V): kvHeads × headDimension.
    let width: Int
    /// KV heads per position, and floats per head.
    let kvHeads: Int, headDimension: Int
    /// Positions per page.
    public let pageSize: Int
    private var pages: [KVPage?]
    // The pages' base pointers, so the per-position lookup neither retains nor unwraps a class reference.
    private let keyBases: UnsafeMutablePointer<UnsafeMutablePointer<Float>?>
    private let valueBases: UnsafeMutablePointer<UnsafeMutablePointer<Float>?>

    /// Positions per page unless a model asks otherwise: large enough that the page table stays small, small enough
    /// that a shared prefix loses at most 31 tokens to rounding.
    public static let defaultPageSize = 32

    /// `width` floats of K (and of V) per position and layer, in `kvHeads` heads (which must divide it).
    init(layers: Int, width: Int, kvHeads: Int, capacity: Int, pageSize: Int = KVCacheState.defaultPageSize)
        throws(EngineError)
    {
        let (pageFloats, o1) = (layers * width).multipliedReportingOverflow(by: pageSize)
        guard capacity > 0, pageSize > 0, layers > 0, width > 0, !o1,
              !capacity.multipliedReportingOverflow(by: width).overflow,
              !(capacity * width).multipliedReportingOverflow(by: layers).overflow, pageFloats > 0
        else {
            throw .invalidInput("KV cache: expected a positive capacity whose size fits in memory, found \(capacity) tokens")
        }
        guard kvHeads > 0, width % kvHeads == 0 else {
            throw .invalidInput("KV cache: expected \(width) floats per position to split into \(kvHeads) heads")
        }
        self.capacity = capacity
        self.layers = layers
        self.width = width
        self.kvHeads = kvHeads
        self.headDimension = width / kvHeads
        self.pageSize = pageSize
        let pageCount = (capacity + pageSize - 1) / pageSize
        pages = Array(repeating: nil, count: pageCount)
        keyBases = .allocate(capacity: pageCount)
        keyBases.initialize(repeating: nil, count: pageCount)
        valueBases = .allocate(capacity: pageCount)
        valueBases.initialize(repeating: nil, count: pageCount)
    }

    deinit {
        keyBases.deallocate()
        valueBases.deallocate()
    }

    public func truncate(to length: Int) throws(EngineError) {
        guard length >= 0, length <= self.length else {
            throw .invalidInput("truncate: expected a length in 0...\(self.length), found \(length)")
        }
        // Every page the next tokens will be written into must be this state's own: a shared one it keeps
        // positions of is copied, a shared one past the new end is let go (a fresh page is made when written).
        for page in (length / pageSize)..<pages.count {
            // Checked before binding the page (a binding would be a second reference); false for no page, which
            // the binding then skips.
            guard !isKnownUniquelyReferenced(&pages[page]), let shared = pages[page] else { continue }
            if page * pageSize < length {
                install(shared.copy(), at: page)
            } else {
                pages[page] = nil
                keyBases[page] = nil
                valueBases[page] = nil
            }
        }
        self.length = length
    }

    /// Floats from one KV head's vector of a position to the next head's (the same in every page).
    var headStride: Int { pageSize * headDimension }

    /// K of `layer` at `position`: head 0's `headDimension` floats; head h's start `headStride` · h floats further.
    func key(layer: Int, position: Int) -> UnsafeMutablePointer<Float> {
        let page = position / pageSize
        let base = keyBases[page] ?? allocate(page).keys
        return base + layer * pageSize * width + (position - page * pageSize) * headDimension
    }

    /// V of `layer` at `position`, as `key(layer:position:)`.
    func value(layer: Int, position: Int) -> UnsafeMutablePointer<Float> {
        let page = position / pageSize
        let base = valueBases[page] ?? allocate(page).values
        return base + layer * pageSize * width + (position - page * pageSize) * headDimension
    }

    /// Writes K and V of `layer` at `position` from `width` floats each, head after head (as the projections give
    /// them), into their heads' places.
    func store(layer: Int, position: Int, keys: UnsafePointer<Float>, values: UnsafePointer<Float>) {
        let k = key(layer: layer, position: position), v = value(layer: layer, position: position)
        for head in 0..<kvHeads {
            (k + head * headStride).update(from: keys + head * headDimension, count: headDimension)
            (v + head * headStride).update(from: values + head * headDimension, count: headDimension)
        }
    }

    /// Records that `count` more tokens were written at every layer.
    func advance(by count: Int) { length += count }

    // MARK: PrefixSharingState

    public var blockSize: Int { pageSize }

    public func sharedBlock(_ index: Int) -> (any SharedPrefixBlock)? { page(index) }

    /// Page `index` once it is full (`length` beyond its end), else nil.
    func page(_ index: Int) -> KVPage? {
        guard index >= 0, (index + 1) * pageSize <= length else { return nil }
        return pages[index]
    }

    /// A copy of the page being filled (the one `length` falls in, used in part), for a tail block; nil when
    /// `length` is a page end.
    func copyOfPartialPage() -> KVPage? {
        let index = length / pageSize
        guard length % pageSize != 0, index < pages.count, let page = pages[index] else { return nil }
        return page.copy()
    }

    public func adopt(_ blocks: [any SharedPrefixBlock], length adopted: Int) throws(EngineError) {
        guard length == 0 else {
            throw .invalidInput("prefix cache: expected an empty state to adopt a prefix, found \(length) tokens")
        }
        guard adopted > (blocks.count - 1) * pageSize, adopted <= blocks.count * pageSize, adopted < capacity else {
            throw .invalidInput("prefix cache: expected \(adopted) tokens to end in the last of \(blocks.count) pages of "
                                + "\(pageSize) and leave room in a capacity of \(capacity)")
        }
        var pagesToInstall: [KVPage] = []
        for (index, block) in blocks.enumerated() {
            guard let page = block as? KVPage, page.floats == layers * width * pageSize else {
                throw .invalidInput("prefix cache: block \(index) was not made by a KV cache of this model")
            }
            pagesToInstall.append(page)
        }
        for (index, page) in pagesToInstall.enumerated() { install(page, at: index) }
        // The next token goes into the last page when it is used in part: copy on write.
        if adopted % pageSize != 0, let last = pagesToInstall.last { install(last.copy(), at: pagesToInstall.count - 1) }
        length = adopted
    }

    private func allocate(_ page: Int) -> KVPage {
        let fresh = KVPage(floats: layers * width * pageSize, positions: pageSize)
        install(fresh, at: page)
        return fresh
    }

    private func install(_ page: KVPage, at index: Int) {
        pages[index] = page
        keyBases[index] = page.keys
        valueBases[index] = page.values
    }
}

/// One page of a KV cache: K and V of `pageSize` positions for every layer. Immutable once full and shared.
final class KVPage: SharedPrefixBlock, @unchecked Sendable {
    // Written only by the one state that owns it while it is not full; read-only once shared.
    let keys: UnsafeMutablePointer<Float>
    let values: UnsafeMutablePointer<Float>
    /// Floats in `keys` (and in `values`).
    let floats: Int
    /// Positions it holds (its cache's page size).
    let positions: Int

    init(floats: Int, positions: Int) {
        self.floats = floats
        self.positions = positions
        // On cache lines (`CacheLineFloats`): attention over 2,048 positions of 8 layers (1 row, 2 threads, the cache
        // streamed from memory) took 8.8-9.1 ms per step on malloc's pages and 5.7-6.2 ms on aligned ones (throwaway
        // loop, 2026-11-30).
        keys = CacheLineFloats.allocate(floats)
        values = CacheLineFloats.allocate(floats)
    }

    deinit {
        CacheLineFloats.deallocate(keys)
        CacheLineFloats.deallocate(values)
    }

    var byteCount: Int { 2 * floats * MemoryLayout<Float>.size }

    /// KV pages can resume a sequence anywhere (attention has no hidden state besides the cache).
    var isResumePoint: Bool { true }
    var canResumeInside: Bool { true }
    var tokenCount: Int { positions }

    func copy() -> KVPage {
        let twin = KVPage(floats: floats, positions: positions)
        twin.keys.update(from: keys, count: floats)
        twin.values.update(from: values, count: floats)
        return twin
    }
}
