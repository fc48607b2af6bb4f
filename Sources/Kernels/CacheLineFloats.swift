/// Float buffers that start on a 64-byte cache line, for memory the kernels stream. malloc maps buffers of 128 KiB
/// and more on their own, 16 bytes past a page boundary, so every 64-byte vector load of them straddles two cache
/// lines (the KV cache's pages lost a third of attention's speed to that: `KVPage`).
public enum CacheLineFloats {
    /// `count` uninitialized floats on a cache line; free them with `deallocate(_:)`.
    public static func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
        UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<Float>.stride, alignment: 64)
            .bindMemory(to: Float.self, capacity: count)
    }

    /// Frees floats from `allocate(_:)`.
    public static func deallocate(_ pointer: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(pointer).deallocate()
    }
}
