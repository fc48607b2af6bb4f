/// A fixed-length array of floats whose storage starts on a 64-byte cache line, with an array's value semantics:
/// copies share the storage until one of them is written (copy on write). For state that snapshots share and kernels
/// stream, where a Swift array's storage starts 32 bytes into an allocation that malloc maps on its own 16 bytes past a
/// page boundary, so every 64-byte vector of it straddles two cache lines (`CacheLineFloats`).
public struct CacheLineArray: @unchecked Sendable {
    /// The floats and their count, freed with the last copy that shares them.
    private final class Storage {
        let pointer: UnsafeMutablePointer<Float>
        let count: Int

        init(repeating value: Float, count: Int) {
            self.count = count
            pointer = CacheLineFloats.allocate(max(count, 1))
            pointer.initialize(repeating: value, count: count)
        }

        init(copying other: Storage) {
            count = other.count
            pointer = CacheLineFloats.allocate(max(count, 1))
            pointer.initialize(from: other.pointer, count: count)
        }

        deinit { CacheLineFloats.deallocate(pointer) }
    }

    private var storage: Storage

    /// `count` copies of `value`.
    public init(repeating value: Float, count: Int) {
        storage = Storage(repeating: value, count: max(count, 0))
    }

    /// Number of floats.
    public var count: Int { storage.count }

    /// The floats, read-only.
    public func withUnsafeBufferPointer<R, E: Error>(_ body: (UnsafeBufferPointer<Float>) throws(E) -> R) throws(E) -> R {
        try body(UnsafeBufferPointer(start: storage.pointer, count: storage.count))
    }

    /// The floats, writable: first copied when another copy of this array shares them.
    public mutating func withUnsafeMutableBufferPointer<R, E: Error>(
        _ body: (inout UnsafeMutableBufferPointer<Float>) throws(E) -> R
    ) throws(E) -> R {
        if !isKnownUniquelyReferenced(&storage) { storage = Storage(copying: storage) }
        var buffer = UnsafeMutableBufferPointer(start: storage.pointer, count: storage.count)
        return try body(&buffer)
    }

    /// The floats as a Swift array (for tests and tracing).
    public var array: [Float] { withUnsafeBufferPointer { Array($0) } }
}
