import Foundation
import Generation
import Testing
import Tokenizers
@testable import Engine

/// The prefix cache for qwen3next (DESIGN.md §6, issue 12): KV pages plus recurrent-state snapshots taken where
/// prefill chunks end; an adopted prefix is bit-identical to a computed one, and truncation keeps working after it.
@Suite("qwen3next prefix cache")
struct Qwen3NextPrefixCacheTests {
    /// Deterministic tokens inside the fixtures' 288-token vocabulary.
    static func tokens(_ count: Int, seed: Int) -> [TokenID] {
        var n = UInt64(seed) &* 0x9E37_79B9_7F4A_7C15 &+ 1
        return (0..<count).map { _ in
            n = n &* 6364136223846793005 &+ 1442695040888963407
            return TokenID(3 + Int(n >> 33) % 270)
        }
    }

    /// Bit equality of two logit arrays (a Bool, so a failure does not print thousands of floats).
    static func sameBits(_ a: [Float], _ b: [Float]) -> Bool {
        a.map(\.bitPattern) == b.map(\.bitPattern)
    }

    static func hybrid(_ model: any LanguageModel, capacity: Int) throws -> HybridSequenceState {
        try #require(try model.makeState(capacity: capacity) as? HybridSequenceState)
    }

    @Test("blocks are KV pages; only those ending on a snapshot are resume points, and they count its bytes")
    func blocks() throws {
        let model = try loadFixtureModel(try ModelFixture.named("qwen3next-a").modelPath).model
        let state = try Self.hybrid(model, capacity: 256)
        #expect(state.blockSize == KVCacheState.defaultPageSize && state.needsSnapshots)
        _ = try model.forward([ForwardItem(state: state, tokens: Self.tokens(64, seed: 1))], allPositions: false)
        state.takeSnapshot()
        _ = try model.forward([ForwardItem(state: state, tokens: Self.tokens(40, seed: 2))], allPositions: false)
        let blocks = (0..<4).map { state.sharedBlock($0) }
        #expect(blocks[3] == nil, "a page the state has not filled is not shareable")
        let made = blocks.compactMap { $0 }
        #expect(made.map(\.isResumePoint) == [false, true, false])
        #expect(made.allSatisfy { !$0.canResumeInside })
        let page = try #require(state.attention.sharedBlock(0)).byteCount
        #expect(made.map(\.byteCount) == [page, page + state.snapshotBytes, page])
        // 6 linear layers of config A: conv (3 × 64 channels) and delta (4 heads × 8 × 8) floats each.
        #expect(state.snapshotBytes == 6 * (3 * 64 + 4 * 8 * 8) * 4)
    }

    @Test("an adopted prefix gives the bits of a computed one, beside other sequences; the leader is untouched",
          arguments: ["qwen3next-a", "qwen3next-b"])
    func adoptedPrefixIsBitIdentical(name: String) throws {
        let model = try loadFixtureModel(try ModelFixture.named(name).modelPath).model
        let shared = Self.tokens(128, seed: 3)
        let first = shared + Self.tokens(37, seed: 4)
        let second = shared + Self.tokens(45, seed: 5)
        let other = Self.tokens(70, seed: 6)

        // The leader prefills in chunks of 64 and snapshots at their ends, as the scheduler does at its chunks.
        let leader = try Self.hybrid(model, capacity: 256)
        for chunk in [0..<64, 64..<128] {
            _ = try model.forward([ForwardItem(state: leader, tokens: Array(first[chunk]))], allPositions: false)
            leader.takeSnapshot()
        }
        _ = try model.forward([ForwardItem(state: leader, tokens: Array(first[128...]))], allPositions: false)
        leader.takeSnapshot()
        let leaderNext = try model.forward([ForwardItem(state: leader, tokens: [9])], allPositions: false)[0]
        try leader.truncate(to: first.count)
        #expect(leader.length == first.count)

        let follower = try Self.hybrid(model, capacity: 256)
        let blocks = (0..<4).compactMap { leader.sharedBlock($0) }
        #expect(blocks.count == 4 && blocks[3].isResumePoint)
        try follower.adopt(blocks, length: shared.count)
        #expect(follower.length == shared.count)
        // The follower continues beside another sequence; the reference computes everything alone.
        let side = try model.makeState(capacity: 256)
        let reused = try model.forward([ForwardItem(state: side, tokens: other),
                                        ForwardItem(state: follower, tokens: Array(second[shared.count...]))],
                                       allPositions: true)[1]
        let fresh = try model.makeState(capacity: 256)
        var computed: [Float] = []
        for chunk in [0..<64, 64..<128, 128..<second.count] {
            computed = try model.forward([ForwardItem(state: fresh, tokens: Array(second[chunk]))], allPositions: true)[0]
        }
        #expect(Self.sameBits(reused, computed), "logits bits differ")
        // Decoding on: still the same bits.
        let a = try model.forward([ForwardItem(state: follower, tokens: [11])], allPositions: false)[0]
        let b = try model.forward([ForwardItem(state: fresh, tokens: [11])], allPositions: false)[0]
        #expect(Self.sameBits(a, b), "logits bits differ")

        // The leader's pages and snapshot were not written by the follower.
        let leaderAgain = try model.forward([ForwardItem(state: leader, tokens: [9])], allPositions: false)[0]
        #expect(Self.sameBits(leaderAgain, leaderNext), "logits bits differ")
    }

    @Test("after adoption, truncate goes to 0, to an adopted snapshot point or to the current length, and nowhere else")
    func truncateAfterAdoption() throws {
        let model = try loadFixtureModel(try ModelFixture.named("qwen3next-b").modelPath).model
        let prompt = Self.tokens(128, seed: 7)
        let leader = try Self.hybrid(model, capacity: 200)
        for chunk in [0..<64, 64..<128] {
            _ = try model.forward([ForwardItem(state: leader, tokens: Array(prompt[chunk]))], allPositions: false)
            leader.takeSnapshot()
        }
        let follower = try Self.hybrid(model, capacity: 200)
        try follower.adopt((0..<4).compactMap { leader.sharedBlock($0) }, length: 128)
        #expect(follower.snapshotLengths == [0, 64, 128])
        try follower.truncate(to: 128)
        #expect(follower.length == 128)

        let tail = Self.tokens(20, seed: 8)
        let afterPrefix = try model.forward([ForwardItem(state: follower, tokens: tail)], allPositions: true)[0]
        #expect(throws: EngineError.self) { try follower.truncate(to: 100) }
        // Back to the adopted end: the same continuation, bit for bit.
        try follower.truncate(to: 128)
        let again = try model.forward([ForwardItem(state: follower, tokens: tail)], allPositions: true)[0]
        #expect(Self.sameBits(again, afterPrefix), "logits bits differ")
        // Back to the first snapshot: recomputing 64..<128 gives the leader's own logits there.
        try follower.truncate(to: 64)
        let rerun = try model.forward([ForwardItem(state: follower, tokens: Array(prompt[64..<128]))], allPositions: false)[0]
        let reference = try model.makeState(capacity: 200)
        var expected: [Float] = []
        for chunk in [0..<64, 64..<128] {
            expected = try model.forward([ForwardItem(state: reference, tokens: Array(prompt[chunk]))], allPositions: false)[0]
        }
        #expect(Self.sameBits(rerun, expected), "logits bits differ")
        // And to 0: a fresh start.
        try follower.truncate(to: 0)
        #expect(follower.length == 0 && follower.snapshotLengths == [0])
        let start = try model.forward([ForwardItem(state: follower, tokens: Array(prompt[0..<64]))], allPositions: false)[0]
        let cold = try model.forward([ForwardItem(state: try model.makeState(capacity: 200), tokens: Array(prompt[0..<64]))],
                                     allPositions: false)[0]
        #expect(Self.sameBits(start, cold), "logits bits differ")
    }

    @Test("adopt refuses blocks that do not end on a snapshot, foreign blocks and non-empty states")
    func adoptRefusals() throws {
        let a = try loadFixtureModel(try ModelFixture.named("qwen3next-a").modelPath).model
        let b = try loadFixtureModel(try ModelFixture.named("qwen3next-b").modelPath).model
        let leader = try Self.hybrid(a, capacity: 128)
        _ = try a.forward([ForwardItem(state: leader, tokens: Self.tokens(64, seed: 9))], allPositions: false)
        leader.takeSnapshot()
        _ = try a.forward([ForwardItem(state: leader, tokens: Self.tokens(32, seed: 10))], allPositions: false)
        let blocks = (0..<3).compactMap { leader.sharedBlock($0) }
        #expect(blocks.count == 3)
        #expect(throws: EngineError.self, "the third block has no snapshot") {
            try Self.hybrid(a, capacity: 128).adopt(blocks, length: 96)
        }
        #expect(throws: EngineError.self, "a recurrent state cannot resume inside a block") {
            try Self.hybrid(a, capacity: 128).adopt(Array(blocks.prefix(2)), length: 50)
        }
        #expect(throws: EngineError.self, "another model's blocks") {
            try Self.hybrid(b, capacity: 128).adopt(Array(blocks.prefix(2)), length: 64)
        }
        let pages = (0..<2).compactMap { leader.attention.sharedBlock($0) }
        #expect(throws: EngineError.self, "bare KV pages carry no recurrent state") {
            try Self.hybrid(a, capacity: 128).adopt(pages, length: 64)
        }
        #expect(throws: EngineError.self, "a state that already holds tokens") { try leader.adopt(Array(blocks.prefix(2)), length: 64) }
        let fine = try Self.hybrid(a, capacity: 128)
        try fine.adopt(Array(blocks.prefix(2)), length: 64)
        #expect(fine.length == 64)
    }
    @Test("a tail block (a snapshot inside a page) resumes at its end only, with the bits of a computed prefix")
    func tailBlock() throws {
        let model = try loadFixtureModel(try ModelFixture.named("qwen3next-a").modelPath).model
        let stable = Self.tokens(100, seed: 31)
        let first = stable + Self.tokens(30, seed: 32)
        let second = stable + Self.tokens(25, seed: 33)
        let leader = try Self.hybrid(model, capacity: 256)
        for chunk in [0..<64, 64..<100] {
            _ = try model.forward([ForwardItem(state: leader, tokens: Array(first[chunk]))], allPositions: false)
        }
        leader.takeSnapshot()
        #expect(leader.tailBlock(endingAt: 96) == nil, "only at the current length")
        let tail = try #require(leader.tailBlock(endingAt: 100))
        #expect(tail.tokenCount == 4 && tail.isResumePoint && !tail.canResumeInside)
        let page = try #require(leader.attention.sharedBlock(0)).byteCount
        #expect(tail.byteCount == page + leader.snapshotBytes)
        // The leader writes on into its own page; the tail keeps its copy.
        _ = try model.forward([ForwardItem(state: leader, tokens: Array(first[100...]))], allPositions: false)
        leader.discardSnapshots()
        #expect(leader.tailBlock(endingAt: 130) == nil, "no snapshot there")
        let blocks = (0..<3).compactMap { leader.sharedBlock($0) } + [tail]
        #expect(blocks.count == 4 && blocks.prefix(3).allSatisfy { !$0.isResumePoint })

        #expect(throws: EngineError.self, "a tail resumes at its end only") {
            try Self.hybrid(model, capacity: 256).adopt(blocks, length: 99)
        }
        #expect(throws: EngineError.self, "a tail only last") {
            try Self.hybrid(model, capacity: 256).adopt([tail] + blocks.prefix(3), length: 100)
        }
        let follower = try Self.hybrid(model, capacity: 256)
        try follower.adopt(blocks, length: 100)
        #expect(follower.length == 100 && follower.snapshotLengths == [0, 100])
        let reused = try model.forward([ForwardItem(state: follower, tokens: Array(second[100...]))],
                                       allPositions: true)[0]
        let fresh = try model.makeState(capacity: 256)
        var computed: [Float] = []
        for chunk in [0..<64, 64..<100, 100..<second.count] {
            computed = try model.forward([ForwardItem(state: fresh, tokens: Array(second[chunk]))],
                                         allPositions: true)[0]
        }
        #expect(Self.sameBits(reused, computed), "logits bits differ")
        let a = try model.forward([ForwardItem(state: follower, tokens: [11])], allPositions: false)[0]
        let b = try model.forward([ForwardItem(state: fresh, tokens: [11])], allPositions: false)[0]
        #expect(Self.sameBits(a, b), "logits bits differ")
    }

    @Test("touching a prompt before an eviction spares the tail block it will resume from, under a shallower block")
    func touchSparesTheTail() throws {
        let model = try loadFixtureModel(try ModelFixture.named("qwen3next-a").modelPath).model
        let first = Self.tokens(140, seed: 34)
        let second = Array(first[0..<135]) + Self.tokens(10, seed: 35)  // shares 4 whole pages, beyond the tail's
        let cache = PrefixCache(byteLimit: 1 << 30)
        let leader = try Self.hybrid(model, capacity: 256)
        _ = try model.forward([ForwardItem(state: leader, tokens: Array(first[0..<100]))], allPositions: false)
        leader.takeSnapshot()
        cache.insert(first, state: leader, blocks: 3, tail: 4, stablePrefix: 100)
        leader.discardSnapshots()
        _ = try model.forward([ForwardItem(state: leader, tokens: Array(first[100...]))], allPositions: false)
        cache.insert(first, state: leader, blocks: 4, stablePrefix: 100)
        let other = try Self.hybrid(model, capacity: 256)
        _ = try model.forward([ForwardItem(state: other, tokens: Self.tokens(70, seed: 36))], allPositions: false)
        let before = cache.bytes
        cache.insert(Self.tokens(70, seed: 36), state: other, blocks: 2)
        let otherBytes = cache.bytes - before
        #expect(otherBytes > 0)

        cache.touch(second, stablePrefix: 100)
        cache.shrink(toFit: cache.bytes - otherBytes)  // the least recently used go: the other prompt's pages only
        let resume = PrefixCache.ResumePoints(stablePrefix: 100, interval: 256)
        let match = cache.lookup(second, blockSize: 32, maxTokens: second.count - 1, resume: resume)
        #expect(match.tokens == 100 && match.blocks.count == 4)
        // Another stable prefix splits elsewhere: neither the tail nor the pages after 100 are its.
        #expect(cache.lookup(second, blockSize: 32, maxTokens: second.count - 1,
                             resume: .init(stablePrefix: 120, interval: 256)).tokens == 0)
    }
}
