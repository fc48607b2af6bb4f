import Foundation
import Tokenizers
@testable import Engine

/// A scripted model over the real paged KV cache: position p's "K/V" is a hash of position p−1's and token p (so
/// it depends on every token before it, as attention's does), and the logits after a token hash every position's
/// K/V read back from the cache — an adopted page with other bytes than the model would compute changes them.
/// Counts the tokens it computes.
final class ScriptedPagedModel: LanguageModel, @unchecked Sendable {
    let properties: LanguageModelProperties
    private let lock = NSLock()
    private var computed = 0
    /// Where forward calls wait for the test.
    let holds = ForwardHolds()

    init(vocabularySize: Int) {
        properties = LanguageModelProperties(
            architecture: "scripted", name: "scripted", vocabularySize: vocabularySize, trainedContextLength: 8192,
            cacheBytesPerToken: 16
        )
    }

    /// Tokens run through `forward` so far.
    var computedTokens: Int { lock.withLock { computed } }

    func makeState(capacity: Int) throws(EngineError) -> any SequenceState {
        try KVCacheState(layers: 1, width: 2, kvHeads: 1, capacity: capacity)
    }

    func forward(_ items: [ForwardItem], allPositions: Bool) throws(EngineError) -> [[Float]] {
        var output: [[Float]] = []
        for item in items {
            guard let state = item.state as? KVCacheState else { throw .invalidInput("not a KV cache state") }
            guard state.length + item.tokens.count <= state.capacity else { throw .invalidInput("state is full") }
            holds.pass(state.length..<(state.length + item.tokens.count))
            for (offset, token) in item.tokens.enumerated() {
                let position = state.length + offset
                let previous: UInt64 = position == 0 ? 1469598103934665603
                    : UInt64(state.key(layer: 0, position: position - 1)[0].bitPattern) << 32
                        | UInt64(state.value(layer: 0, position: position - 1)[0].bitPattern)
                let hash = (previous ^ UInt64(UInt32(bitPattern: token))) &* 1099511628211
                // Finite floats only (exponent bits cleared of all-ones).
                state.key(layer: 0, position: position)[0] = Float(bitPattern: UInt32(truncatingIfNeeded: hash >> 32) & 0x3FFF_FFFF)
                state.value(layer: 0, position: position)[0] = Float(bitPattern: UInt32(truncatingIfNeeded: hash) & 0x3FFF_FFFF)
            }
            state.advance(by: item.tokens.count)
            var digest: UInt64 = 0xcbf29ce484222325
            for position in 0..<state.length {
                digest = (digest ^ UInt64(state.key(layer: 0, position: position)[0].bitPattern)) &* 1099511628211
                digest = (digest ^ UInt64(state.value(layer: 0, position: position)[0].bitPattern)) &* 1099511628211
            }
            var logits = [Float](repeating: 0, count: properties.vocabularySize)
            // Favour printable letters so the answers decode to text.
            let letters = Array("abcdefghijklmnopqrstuvwxyz".utf8)
            logits[Int(letters[Int(digest % UInt64(letters.count))])] = 10
            logits[Int(letters[Int((digest >> 8) % UInt64(letters.count))])] += 5
            output.append(logits)
        }
        lock.withLock { computed += items.reduce(0) { $0 + $1.tokens.count } }
        return output
    }
}
