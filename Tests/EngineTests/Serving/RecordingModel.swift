import Foundation
import Generation
import Tokenizers
@testable import Engine

/// A real model behind a recorder: counts the tokens it computes and keeps every forward item it ran (the position
/// it started at, its tokens, the bits of the logits it returned), so two runs of the same requests can be compared
/// call by call.
final class RecordingModel: LanguageModel, @unchecked Sendable {
    /// One forward item: where it started, what it appended, what came out.
    struct Item: Hashable {
        var start: Int
        var tokens: [TokenID]
        var logits: [UInt32]
    }

    let inner: any LanguageModel
    private let lock = NSLock()
    private var computed = 0
    private var recorded: [Item] = []

    init(_ inner: any LanguageModel) { self.inner = inner }

    var properties: LanguageModelProperties { inner.properties }
    /// Tokens run through `forward` so far.
    var computedTokens: Int { lock.withLock { computed } }
    /// Every item so far, in call order.
    var items: [Item] { lock.withLock { recorded } }

    func makeState(capacity: Int) throws(EngineError) -> any SequenceState { try inner.makeState(capacity: capacity) }

    func forward(_ items: [ForwardItem], allPositions: Bool) throws(EngineError) -> [[Float]] {
        let starts = items.map(\.state.length)
        let logits = try inner.forward(items, allPositions: allPositions)
        lock.withLock {
            computed += items.reduce(0) { $0 + $1.tokens.count }
            for (index, item) in items.enumerated() {
                recorded.append(Item(start: starts[index], tokens: item.tokens, logits: logits[index].map(\.bitPattern)))
            }
        }
        return logits
    }
}

/// Runs token prompts through a `BatchScheduler` of its own (greedy, no constraint) and returns the responses in
/// prompt order; every request is submitted at once (`oneByOne`: each after the one before has finished), each with
/// a stable prefix of `stablePrefix` tokens (0: none), or of `stablePrefixes[i]` tokens when given.
func schedule(_ model: any LanguageModel, tokenizer: Tokenizer, prompts: [[TokenID]], maxTokens: Int,
              limits: BatchScheduler.Limits, stablePrefix: Int = 0, stablePrefixes: [Int]? = nil,
              oneByOne: Bool = false) async throws -> [GenerationResponse]
{
    let scheduler = BatchScheduler(model: model, tokenizer: tokenizer, limits: limits)
    let properties = model.properties
    let run = { @Sendable (index: Int) async throws -> GenerationResponse in
        let prompt = prompts[index]
        let request = GenerationRequest(id: "r\(index)", prompt: .text(""), maxTokens: maxTokens)
        let reserved = (prompt.count + maxTokens) * properties.cacheBytesPerToken + properties.fixedStateBytes
        let result = await withCheckedContinuation { continuation in
            scheduler.submit(BatchScheduler.Job(
                request: request, prompt: prompt, reservedBytes: reserved,
                stablePrefix: stablePrefixes?[index] ?? stablePrefix, tokenizer: tokenizer,
                constraint: nil, finish: { continuation.resume(returning: $0) }
            ))
        }
        return try result.get()
    }
    if oneByOne {
        var responses: [GenerationResponse] = []
        for index in prompts.indices { responses.append(try await run(index)) }
        return responses
    }
    return try await withThrowingTaskGroup(of: (Int, GenerationResponse).self) { group in
        for index in prompts.indices {
            group.addTask { (index, try await run(index)) }
        }
        var collected = [GenerationResponse?](repeating: nil, count: prompts.count)
        for try await (index, response) in group { collected[index] = response }
        return collected.compactMap { $0 }
    }
}
