import Foundation

/// Points at which a test model's forward call waits for the test, so that a test about what runs beside what never
/// depends on how fast the machine runs a request (on a loaded machine the test's own task can resume long after a
/// mock request has ended). The first forward call that computes a registered position of a sequence waits until
/// the test signals that hold's semaphore; the engine's scheduler thread waits with it.
final class ForwardHolds: @unchecked Sendable {
    private let lock = NSLock()
    private var holds: [(position: Int, release: DispatchSemaphore)] = []
    private var reached = 0

    /// Makes the first forward call that computes `position` of a sequence wait until `release` is signalled.
    func add(atPosition position: Int, until release: DispatchSemaphore) {
        lock.withLock { holds.append((position, release)) }
    }

    /// How many holds a forward call has reached (and waited at, or waits at now).
    var reachedCount: Int { lock.withLock { reached } }

    /// Called by the model before it computes `positions` of a sequence: waits there if a hold lies among them.
    func pass(_ positions: Range<Int>) {
        let release = lock.withLock { () -> DispatchSemaphore? in
            guard let index = holds.firstIndex(where: { positions.contains($0.position) }) else { return nil }
            reached += 1
            return holds.remove(at: index).release
        }
        release?.wait()
    }

    /// Waits (polling, without blocking a thread) until `count` holds have been reached.
    func waitUntilReached(_ count: Int) async throws {
        try await waitUntil("\(count) forward holds reached") { reachedCount >= count }
    }
}

/// Polls `condition` every millisecond without blocking a thread; throws after `seconds` (a guard against a test
/// that would otherwise wait for ever, not a timing threshold: in the full suite on 2 cores, two long synchronous
/// tests can hold both of the runner's threads for minutes, and the task this waits for cannot start before).
func waitUntil(_ what: String, seconds: Double = 600, _ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while !condition() {
        guard ContinuousClock.now < deadline else { throw WaitTimedOut(what: what, seconds: seconds) }
        try await Task.sleep(for: .milliseconds(1))
    }
}

/// A test waited `seconds` for something that never happened.
struct WaitTimedOut: Error, CustomStringConvertible {
    var what: String
    var seconds: Double
    var description: String { "waited \(Int(seconds)) s for \(what)" }
}
