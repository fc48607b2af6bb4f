import Testing
@testable import Kernels

/// The aligned, copy-on-write float array the qwen3next delta-rule state lives in.
@Suite struct CacheLineArrayTests {
    /// The first float's address.
    private func address(_ array: CacheLineArray) -> Int {
        array.withUnsafeBufferPointer { Int(bitPattern: $0.baseAddress) }
    }

    @Test("starts on a cache line, at sizes malloc maps on their own too")
    func alignment() {
        for count in [1, 7, 16, 4096, 1 << 19] {
            #expect(address(CacheLineArray(repeating: 0, count: count)) % 64 == 0, "\(count) floats")
        }
    }

    @Test("copies share the floats until one is written; the write leaves the other copy as it was")
    func copyOnWrite() {
        var a = CacheLineArray(repeating: 1.5, count: 100)
        var b = a
        #expect(address(a) == address(b))
        b.withUnsafeMutableBufferPointer { $0[3] = -2 }
        #expect(address(a) != address(b) && address(b) % 64 == 0)
        #expect(a.array == [Float](repeating: 1.5, count: 100))
        var expected = [Float](repeating: 1.5, count: 100)
        expected[3] = -2
        #expect(b.array == expected)
        // A sole owner writes in place.
        let before = address(a)
        a.withUnsafeMutableBufferPointer { $0[0] = 7 }
        #expect(address(a) == before && a.array[0] == 7 && b.array[0] == 1.5)
        #expect(CacheLineArray(repeating: 0, count: 0).count == 0)
    }
}
