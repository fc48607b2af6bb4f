import Foundation
import Kernels
import Testing
@testable import Engine

/// The per-token work of a step that runs on the pool (norms, the MoE weighted sum, the logits handed back) gives the
/// values the serial code gives, and recycling the logits arrays never changes a result a caller holds.
@Suite("Pooled step work")
struct PooledStepWorkTests {
    /// Values of every sign and magnitude, a different pattern per group.
    static func values(_ count: Int, seed: Int) -> [Float] {
        (0..<count).map { i in
            let t = Float((i * 7919 + seed * 104_729) % 1000) / 1000
            return (t - 0.5) * Float(1 + (i / 128) % 5) * (i % 3 == 0 ? 100 : 1)
        }
    }

    /// The first index where two arrays of floats differ in bits (a count mismatch is the shorter count), nil when
    /// equal: what the expectations report instead of whole arrays.
    static func firstDifference(_ a: [Float], _ b: [Float]) -> Int? {
        if a.count != b.count { return min(a.count, b.count) }
        return a.indices.first { a[$0].bitPattern != b[$0].bitPattern }
    }

    /// Groups of 2,048 (rows of a batch) and of 128 (query heads), at and above the size the pool takes, counts
    /// that are and are not multiples of the runs, out of place and in place: equal to the serial call bit for bit.
    @Test("RMSNorm on the pool equals the serial norm bit for bit", arguments: [
        (2048, 8), (2048, 9), (2048, 13), (2048, 64), (128, 128), (128, 256), (128, 257), (512, 33),
    ])
    func pooledNorm(width: Int, groups: Int) throws {
        let norm = RMSNorm(weight: Self.values(width, seed: 1), epsilon: 1e-6)
        let input = Self.values(width * groups, seed: 2)
        let count = input.count
        #expect(count >= RMSNorm.pooledFloats, "the case must reach the pooled path")
        var serial = [Float](repeating: 0, count: count)
        input.withUnsafeBufferPointer { x in
            serial.withUnsafeMutableBufferPointer { y in
                norm.normalize(x.baseAddress!, count: count, into: y.baseAddress!)
            }
        }
        for threads in [2, 3] {
            let pool = try ThreadPool(threads: threads)
            var pooled = [Float](repeating: .nan, count: count)
            input.withUnsafeBufferPointer { x in
                pooled.withUnsafeMutableBufferPointer { y in
                    norm.normalize(x.baseAddress!, count: count, into: y.baseAddress!, pool: pool)
                }
            }
            #expect(Self.firstDifference(pooled, serial) == nil, "\(threads) threads, out of place")
            var inPlace = input
            inPlace.withUnsafeMutableBufferPointer { y in
                norm.normalize(y.baseAddress!, count: count, into: y.baseAddress!, pool: pool)
            }
            #expect(Self.firstDifference(inPlace, serial) == nil, "\(threads) threads, in place")
        }
    }

    /// A decode step overwrites the previous step's arrays when the caller has let go of them; one the caller still
    /// holds keeps its values, and every step's logits equal those of a model that recycles nothing (a fresh load
    /// per step would be slow, so the reference is the all-positions path, which returns new arrays).
    @Test("recycled logits: a held result keeps its values, every result is right",
          arguments: ["qwen3moe-q-q4_k_m", "qwen3next-a"])
    func recycledLogits(name: String) throws {
        let fixture = try ModelFixture.named(name)
        let model = try loadFixtureModel(fixture.modelPath).model
        let reference = try loadFixtureModel(fixture.modelPath).model
        let prompts: [[Int32]] = [[5, 9, 14], [7], [3, 3, 8, 21]]
        let states = try prompts.map { _ in try model.makeState(capacity: 32) }
        let referenceStates = try prompts.map { _ in try reference.makeState(capacity: 32) }
        var held: [[Float]] = []
        var heldCopy: [[Float]] = []
        var heldRow: [Float] = [], heldRowCopy: [Float] = []
        // Batches that grow, shrink and hold an item without tokens, so arrays are reused, replaced and added.
        let schedule: [[Int]] = [[0, 1, 2], [0, 1, 2], [0, 2], [0, 1, 2], [1]]
        for (step, members) in schedule.enumerated() {
            let tokens: [[Int32]] = members.map { step == 0 ? prompts[$0] : [Int32(2 + (3 * step + $0) % 40)] }
            var items = zip(members, tokens).map { ForwardItem(state: states[$0], tokens: $1) }
            var referenceItems = zip(members, tokens).map { ForwardItem(state: referenceStates[$0], tokens: $1) }
            if step == 3 {  // an item without tokens keeps no logits
                let spare = try model.makeState(capacity: 4), referenceSpare = try reference.makeState(capacity: 4)
                items.insert(ForwardItem(state: spare, tokens: []), at: 1)
                referenceItems.insert(ForwardItem(state: referenceSpare, tokens: []), at: 1)
            }
            let logits = try model.forward(items, allPositions: false)
            let expected = try reference.forward(referenceItems, allPositions: true).map { all -> [Float] in
                let vocabulary = model.properties.vocabularySize
                return all.isEmpty ? [] : Array(all[(all.count - vocabulary)...])
            }
            #expect(logits.count == expected.count, "step \(step)")
            for (item, (got, want)) in zip(logits, expected).enumerated() {
                #expect(Self.firstDifference(got, want) == nil, "step \(step), item \(item)")
            }
            if step == 1 {
                held = logits  // kept across the next steps
                heldRow = logits[2]  // and one sequence's row alone
                heldRowCopy = logits[2].map { $0 }
                heldCopy = logits.map { $0.map { $0 } }  // new storage, not shared with `held`
            }
            if step > 1 {
                for (item, (kept, copy)) in zip(held, heldCopy).enumerated() {
                    #expect(Self.firstDifference(kept, copy) == nil,
                            "step \(step) changed item \(item) of a held result")
                }
                #expect(Self.firstDifference(logits[0], heldCopy[0]) != nil,
                        "the steps must differ for the check to bite")
                #expect(Self.firstDifference(heldRow, heldRowCopy) == nil, "step \(step) changed a held row")
            }
        }
    }

    /// The MoE weighted sum on the pool equals the serial loop it replaced (zero, then weight · y added per rank in
    /// the token's rank order, unfused), bit for bit, with 3 ranks (where the order shows in the bits), down outputs
    /// wider than the output rows, and 1 to 3 threads.
    @Test("MoE weighted sums on the pool equal the serial loop bit for bit", arguments: [1, 2, 3])
    func weightedSums(threads: Int) throws {
        let rows = 7, topK = 3, width = 96, expertWidth = 100, members = rows * topK
        let expertOutputs = Self.values(members * expertWidth, seed: 3)
        let weights = Self.values(members, seed: 4).map { abs($0) + 0.01 }
        let chosen = (0..<members).map { (expert: $0 % 5, weight: weights[$0]) }
        let memberOf = (0..<members).map { (7 * $0 + 3) % members }  // a permutation: members in another order
        // The serial loop, with the ranks in the given order.
        func serialSums(ranks: [Int]) -> [Float] {
            var sums = [Float](repeating: 0, count: rows * width)
            for row in 0..<rows {
                for rank in ranks {
                    let c = chosen[row * topK + rank], base = memberOf[row * topK + rank] * expertWidth
                    for i in 0..<width { sums[row * width + i] += c.weight * expertOutputs[base + i] }
                }
            }
            return sums
        }
        let serial = serialSums(ranks: Array(0..<topK))
        let pool = threads > 1 ? try ThreadPool(threads: threads) : nil
        var pooled = [Float](repeating: .nan, count: rows * width)
        expertOutputs.withUnsafeBufferPointer { y in
            chosen.withUnsafeBufferPointer { chosen in
                memberOf.withUnsafeBufferPointer { memberOf in
                    pooled.withUnsafeMutableBufferPointer { out in
                        let sums = WeightedSums(output: out.baseAddress!, expertOutputs: y.baseAddress!,
                                                chosen: chosen.baseAddress!, memberOf: memberOf.baseAddress!,
                                                topK: topK, width: width, expertWidth: expertWidth)
                        ThreadPool.run(pool, count: rows) { sums.sum(row: $0) }
                    }
                }
            }
        }
        #expect(Self.firstDifference(pooled, serial) == nil)
        // The order shows: the same terms summed from the last rank first differ somewhere.
        #expect(Self.firstDifference(serialSums(ranks: (0..<topK).reversed()), serial) != nil,
                "the data must make the rank order visible")
    }
}
