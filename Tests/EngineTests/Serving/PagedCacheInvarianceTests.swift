import Foundation
import Generation
import Testing
import Tokenizers
@testable import Engine

/// Batch invariance with the prefix cache (DESIGN.md §6): a sequence that adopts another's KV pages gets logits
/// bit-identical to computing everything itself, and the page it shares is never changed under the other one.
@Suite struct PagedCacheInvarianceTests {
    static func tokens(_ count: Int, seed: Int) -> [TokenID] {
        (0..<count).map { TokenID(3 + (($0 * 37 + seed * 11) % 180)) }
    }

    @Test("adopted pages (whole and in part) give the same logits bits as computing them",
          arguments: ["qwen3moe-a", "llama", "qwen3moe-q-q4_k_m"])
    func adoptedPrefixIsBitIdentical(name: String) throws {
        let model = try loadFixtureModel(try ModelFixture.named(name).modelPath).model
        let shared = Self.tokens(75, seed: 1)          // 2 whole pages of 32 and 11 tokens of the third
        let first = shared + Self.tokens(30, seed: 2)  // fills the third page with its own tokens
        let second = shared + Self.tokens(9, seed: 3)

        let leader = try #require(try model.makeState(capacity: 160) as? KVCacheState)
        _ = try model.forward([ForwardItem(state: leader, tokens: first)], allPositions: false)
        let leaderLogitsBefore = try model.forward([ForwardItem(state: leader, tokens: [5])], allPositions: false)[0]
        try leader.truncate(to: first.count)

        let follower = try #require(try model.makeState(capacity: 160) as? KVCacheState)
        let blocks = (0..<3).compactMap { leader.sharedBlock($0) }
        #expect(blocks.count == 3)
        try follower.adopt(blocks, length: shared.count)
        #expect(follower.length == shared.count)
        let reused = try model.forward([ForwardItem(state: follower, tokens: Array(second[shared.count...]))],
                                       allPositions: true)[0]

        let fresh = try model.makeState(capacity: 160)
        let computed = try model.forward([ForwardItem(state: fresh, tokens: second)], allPositions: true)[0]
        let vocabulary = model.properties.vocabularySize
        let tail = Array(computed[((shared.count) * vocabulary)...])
        #expect(reused.map(\.bitPattern) == tail.map(\.bitPattern))

        // The follower wrote into its copy of the third page, not into the leader's.
        let leaderLogitsAfter = try model.forward([ForwardItem(state: leader, tokens: [5])], allPositions: false)[0]
        #expect(leaderLogitsAfter.map(\.bitPattern) == leaderLogitsBefore.map(\.bitPattern))
    }

    /// Rewinding a state that adopted pages, into one (40), to a page end before shared pages (32, 0) or to the
    /// start of a page it shares only partly, never lets its next tokens land in the other state's pages.
    @Test(arguments: [40, 32, 0])
    func truncatingIntoASharedPageCopiesIt(to point: Int) throws {
        let model = try loadFixtureModel(try ModelFixture.named("qwen3").modelPath).model
        let prompt = Self.tokens(64, seed: 4)
        let a = try #require(try model.makeState(capacity: 128) as? KVCacheState)
        _ = try model.forward([ForwardItem(state: a, tokens: prompt)], allPositions: false)
        let b = try #require(try model.makeState(capacity: 128) as? KVCacheState)
        try b.adopt([a.sharedBlock(0), a.sharedBlock(1)].compactMap { $0 }, length: 64)
        let continuation = try model.forward([ForwardItem(state: a, tokens: [7])], allPositions: false)[0]
        try a.truncate(to: 64)
        // b rewinds and writes other tokens where a's pages hold its prompt.
        try b.truncate(to: point)
        _ = try model.forward([ForwardItem(state: b, tokens: Self.tokens(64 - point, seed: 5))], allPositions: false)
        let again = try model.forward([ForwardItem(state: a, tokens: [7])], allPositions: false)[0]
        #expect(again.map(\.bitPattern) == continuation.map(\.bitPattern))
    }

    /// Pages only this state holds stay where they are when it rewinds (nothing to protect: no copy, no new page).
    @Test func truncatingItsOwnPagesKeepsThem() throws {
        let cache = try KVCacheState(layers: 2, width: 64, kvHeads: 2, capacity: 96)
        for position in 0..<70 { _ = cache.key(layer: 0, position: position) }
        cache.advance(by: 70)
        let partial = cache.key(layer: 1, position: 40), later = cache.value(layer: 1, position: 64)
        try cache.truncate(to: 40)
        #expect(cache.key(layer: 1, position: 40) == partial)
        #expect(cache.value(layer: 1, position: 64) == later)
    }

    /// K and V rows start on cache lines (pages large enough for malloc to map on their own land 16 bytes past a page
    /// boundary, and attention's 64-byte loads then straddle two lines), also in a page copied on write.
    @Test func pagesStartOnCacheLines() throws {
        let cache = try KVCacheState(layers: 2, width: 512, kvHeads: 4, capacity: 96)  // 256 KB pages: mapped on their own
        for position in [0, 1, 31, 32, 95] {
            for layer in 0..<2 {
                for head in 0..<4 {
                    let offset = head * cache.headStride
                    #expect(Int(bitPattern: cache.key(layer: layer, position: position) + offset) % 64 == 0)
                    #expect(Int(bitPattern: cache.value(layer: layer, position: position) + offset) % 64 == 0)
                }
            }
        }
        let copy = KVPage(floats: 2 * 32 * 512, positions: 32).copy()
        #expect(Int(bitPattern: copy.keys) % 64 == 0 && Int(bitPattern: copy.values) % 64 == 0)
    }

    /// A page keeps each head's positions together: `store` puts head h of a position `headStride` · h floats past
    /// head 0, and within a page the next position's vector of a head follows this one's (what attention streams).
    @Test func headsKeepTheirPositionsTogether() throws {
        let heads = 4, d = 8, width = heads * d
        let cache = try KVCacheState(layers: 3, width: width, kvHeads: heads, capacity: 70, pageSize: 32)
        #expect(cache.headStride == 32 * d)
        let rows = (0..<70).map { p in (0..<width).map { Float(p * 1000 + $0) } }
        for layer in 0..<3 {
            for p in 0..<70 {
                let k = rows[p], v = rows[p].map { -$0 - Float(layer) }
                k.withUnsafeBufferPointer { kp in
                    v.withUnsafeBufferPointer { vp in
                        cache.store(layer: layer, position: p, keys: kp.baseAddress!, values: vp.baseAddress!)
                    }
                }
            }
        }
        for layer in 0..<3 {
            for p in 0..<70 {
                let key = cache.key(layer: layer, position: p), value = cache.value(layer: layer, position: p)
                for h in 0..<heads {
                    for i in 0..<d {
                        #expect(key[h * cache.headStride + i] == rows[p][h * d + i])
                        #expect(value[h * cache.headStride + i] == -rows[p][h * d + i] - Float(layer))
                    }
                }
                if p % 32 != 31 && p < 69 { #expect(cache.key(layer: layer, position: p + 1) == key + d) }
            }
        }
        #expect(throws: EngineError.self) { try KVCacheState(layers: 1, width: 30, kvHeads: 4, capacity: 8) }
    }

    @Test func adoptRefusesForeignOrMisplacedBlocks() throws {
        let small = try KVCacheState(layers: 1, width: 2, kvHeads: 1, capacity: 64)
        let other = try KVCacheState(layers: 2, width: 2, kvHeads: 1, capacity: 64)
        for position in 0..<32 {
            other.key(layer: 0, position: position)[0] = 0
            other.value(layer: 0, position: position)[0] = 0
        }
        other.advance(by: 32)
        let block = try #require(other.sharedBlock(0))
        #expect(throws: EngineError.self) { try small.adopt([block], length: 32) }
        let same = try KVCacheState(layers: 2, width: 2, kvHeads: 1, capacity: 64)
        #expect(throws: EngineError.self) { try same.adopt([block], length: 33) }
        #expect(throws: EngineError.self) { try same.adopt([block], length: 0) }
        #expect(other.sharedBlock(1) == nil, "a page the state has not filled is not shareable")
    }
}
