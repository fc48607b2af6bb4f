/// Floats at a stable address, reused from one forward call to the next: a buffer grows when a call needs more
/// (a larger batch or prefill chunk) and is otherwise kept, so the decode loop allocates nothing once it has seen
/// its shapes (issue 12). Contents are unspecified after `resize`; callers write before they read.
final class FloatBuffer {
    private(set) var pointer: UnsafeMutablePointer<Float>
    private(set) var capacity: Int
    /// Floats in use (what `array` copies).
    private(set) var count = 0

    init() {
        capacity = 1
        pointer = .allocate(capacity: 1)
        pointer.initialize(to: 0)
    }

    deinit { pointer.deallocate() }

    /// Makes room for `count` floats (growing to at least twice the old capacity) and returns the first.
    @discardableResult
    func resize(_ count: Int) -> UnsafeMutablePointer<Float> {
        if count > capacity {
            let grown = max(count, 2 * capacity)
            pointer.deallocate()
            pointer = .allocate(capacity: grown)
            pointer.initialize(repeating: 0, count: grown)
            capacity = grown
        }
        self.count = count
        return pointer
    }

    /// `resize(count)` with every value set to zero.
    @discardableResult
    func zeroed(_ count: Int) -> UnsafeMutablePointer<Float> {
        resize(count).update(repeating: 0, count: count)
        return pointer
    }

    /// A copy of the floats in use (for traces and tests; allocates).
    var array: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
}
