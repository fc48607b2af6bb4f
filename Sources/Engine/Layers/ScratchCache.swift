import Foundation

/// One reusable scratch object per model, lent to one forward call at a time, so the buffers of a decode step are
/// the previous step's (issue 12: no heap allocation per token). A call that starts while another holds the
/// scratch gets a fresh one (allocating, as every call did before), so concurrent callers stay correct.
final class ScratchCache<Scratch: AnyObject>: @unchecked Sendable {
    // `idle` is read and written only under `lock`; a lent scratch belongs to its call alone.
    private let lock = NSLock()
    private var idle: Scratch?
    private let make: @Sendable () -> Scratch

    init(_ make: @escaping @Sendable () -> Scratch) { self.make = make }

    /// Runs `body` with the idle scratch (or a new one when it is lent out), then keeps it for the next call.
    func withScratch<R>(_ body: (Scratch) throws(EngineError) -> R) throws(EngineError) -> R {
        lock.lock()
        let lent = idle
        idle = nil
        lock.unlock()
        let scratch = lent ?? make()
        defer {
            lock.lock()
            idle = scratch
            lock.unlock()
        }
        return try body(scratch)
    }
}
