import Foundation
import Testing
@testable import Engine

/// DESIGN.md §6: a sequence's logits are bit-identical whether it runs alone or beside 1, 4 or 7 others (of other
/// lengths, at other positions in the batch), and whatever the thread count.
@Suite("Batch invariance")
struct BatchInvarianceTests {
    /// Prefill `prompt`, then decode `steps`, with `others` running beside it (their own prompts and steps);
    /// returns the target's logits at every step, as bit patterns.
    static func run(_ model: any LanguageModel, prompt: [Int32], steps: [Int32], others: [[Int32]], slot: Int)
        throws -> [[UInt32]]
    {
        let target = try model.makeState(capacity: 64)
        let states = try others.map { _ in try model.makeState(capacity: 64) }
        var items = zip(states, others).map { ForwardItem(state: $0, tokens: $1) }
        let at = min(slot, items.count)
        items.insert(ForwardItem(state: target, tokens: prompt), at: at)
        var result = [try model.forward(items, allPositions: true)[at].map(\.bitPattern)]
        for (i, token) in steps.enumerated() {
            var step = states.enumerated().map { ForwardItem(state: $1, tokens: [Int32(3 + ($0 + i) % 50)]) }
            step.insert(ForwardItem(state: target, tokens: [token]), at: at)
            result.append(try model.forward(step, allPositions: false)[at].map(\.bitPattern))
        }
        return result
    }

    @Test("alone and beside 1, 4 and 7 others", arguments: ["llama", "qwen3moe-a", "qwen3moe-q-q4_k_m"])
    func besideOthers(name: String) throws {
        let fixture = try ModelFixture.named(name)
        let model = try loadFixtureModel(fixture.modelPath).model
        let prompt = fixture.sequences[0]
        let steps: [Int32] = [5, 17, 42]
        let alone = try Self.run(model, prompt: prompt, steps: steps, others: [], slot: 0)
        for count in [1, 4, 7] {
            // Other sequences of other lengths, the target in the middle of the batch.
            let others = (0..<count).map { k in (0..<(3 + 2 * k)).map { Int32(1 + (7 * $0 + 13 * k) % 200) } }
            let beside = try Self.run(model, prompt: prompt, steps: steps, others: others, slot: count / 2 + 1)
            #expect(beside == alone, "\(name): logits differ beside \(count) other sequences")
        }
    }

    @Test("one thread and two threads give the same bits", arguments: ["qwen3moe-b", "qwen3moe-q-q8_0"])
    func threadCount(name: String) throws {
        let fixture = try ModelFixture.named(name)
        let single = try ModelLoader.load(path: fixture.modelPath, pool: nil).model
        let double = try loadFixtureModel(fixture.modelPath).model
        let prompt = fixture.sequences[1]
        let a = try Self.run(single, prompt: prompt, steps: [9, 8], others: [[4, 5, 6]], slot: 1)
        let b = try Self.run(double, prompt: prompt, steps: [9, 8], others: [], slot: 0)
        #expect(a == b)
    }

    @Test("prefill in chunks equals prefill in one call")
    func chunkedPrefill() throws {
        let fixture = try ModelFixture.named("qwen3")
        let model = try loadFixtureModel(fixture.modelPath).model
        let tokens = fixture.sequences[2]
        let whole = try allLogits(model, tokens).last ?? []
        let state = try model.makeState(capacity: tokens.count)
        var last: [Float] = []
        for chunk in stride(from: 0, to: tokens.count, by: 5) {
            let part = Array(tokens[chunk..<min(chunk + 5, tokens.count)])
            last = try model.forward([ForwardItem(state: state, tokens: part)], allPositions: false)[0]
        }
        #expect(last.map(\.bitPattern) == whole.map(\.bitPattern))
        #expect(state.length == tokens.count)
    }
}
