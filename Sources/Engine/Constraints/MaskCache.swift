/// Masks already computed for a matcher state, keyed by the state's frames (top first, then the suspended ones).
///
/// A session owns one; `ConstraintSession.reset` keeps it, so a session reused for many requests with the same
/// schema computes each state's mask once. Full at `capacity` entries, it starts over.
final class MaskCache {
    struct Entry {
        let frames: [Frame]
        let mask: TokenMask
        /// The largest closing cost after any allowed token: the mask is valid while the budget left after this
        /// token is at least that.
        let maximumCostAfter: Int
    }

    private var buckets: [Int: [Entry]] = [:]
    private(set) var count = 0
    let capacity: Int
    private(set) var hits = 0
    private(set) var misses = 0

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// The entry whose frames equal `frames` (given as a hash and an element-wise reader).
    func lookup(hash: Int, depth: Int, frame: (Int) -> Frame) -> Entry? {
        guard let bucket = buckets[hash] else {
            misses += 1
            return nil
        }
        for entry in bucket where entry.frames.count == depth {
            var equal = true
            for index in 0..<depth where entry.frames[index] != frame(index) {
                equal = false
                break
            }
            if equal {
                hits += 1
                return entry
            }
        }
        misses += 1
        return nil
    }

    func insert(hash: Int, _ entry: Entry) {
        if count >= capacity {
            buckets.removeAll(keepingCapacity: true)
            count = 0
        }
        buckets[hash, default: []].append(entry)
        count += 1
    }
}
