import Engine
import Foundation
import Tokenizers

/// A deterministic stand-in for a model: the next token is a pure function of the sequence so far (a hash of its
/// tokens), favouring printable letters and ending with `<|im_end|>` after `answerLength` tokens past the last
/// `<|im_start|>`. It records every forward call so tests can see how requests were batched.
final class MockLanguageModel: LanguageModel, @unchecked Sendable {
    final class State: SequenceState, @unchecked Sendable {
        var tokens: [TokenID] = []
        let capacity: Int
        init(capacity: Int) { self.capacity = capacity }
        var length: Int { tokens.count }
        func truncate(to length: Int) throws(EngineError) { tokens.removeLast(tokens.count - length) }
    }

    struct Call: Sendable {
        /// Per item: first position and token count.
        var items: [(start: Int, count: Int)]
    }

    let properties: LanguageModelProperties
    let endToken: TokenID
    let startToken: TokenID
    let answerLength: Int
    private let lock = NSLock()
    private var recorded: [Call] = []
    /// Where forward calls wait for the test.
    let holds = ForwardHolds()

    init(tokenizer: Tokenizer, answerLength: Int = 12) {
        properties = LanguageModelProperties(
            architecture: "mock", name: "mock", vocabularySize: tokenizer.vocabularySize, trainedContextLength: 512,
            cacheBytesPerToken: 1024
        )
        endToken = tokenizer.specialToken("<|im_end|>") ?? 0
        startToken = tokenizer.specialToken("<|im_start|>") ?? 0
        self.answerLength = answerLength
    }

    var calls: [Call] { lock.withLock { recorded } }

    func makeState(capacity: Int) throws(EngineError) -> any SequenceState { State(capacity: capacity) }

    func forward(_ items: [ForwardItem], allPositions: Bool) throws(EngineError) -> [[Float]] {
        var call = Call(items: [])
        var output: [[Float]] = []
        for item in items {
            guard let state = item.state as? State else { throw .invalidInput("not a mock state") }
            guard state.length + item.tokens.count <= state.capacity else { throw .invalidInput("state is full") }
            holds.pass(state.length..<(state.length + item.tokens.count))
            call.items.append((state.length, item.tokens.count))
            state.tokens += item.tokens
            output.append(logits(after: state.tokens))
        }
        lock.withLock { recorded.append(call) }
        return output
    }

    /// Logits after `tokens`: one favourite token (+10), a runner-up (+8), small noise elsewhere.
    func logits(after tokens: [TokenID]) -> [Float] {
        var hash: UInt64 = 1469598103934665603
        for token in tokens { hash = (hash ^ UInt64(UInt32(bitPattern: token))) &* 1099511628211 }
        var random = SplitMix64(seed: hash)
        var logits = (0..<properties.vocabularySize).map { _ in Float(random.nextUnit()) }
        let sinceStart = tokens.count - 1 - (tokens.lastIndex(of: startToken) ?? 0)
        let letters = Array("abcdefghij klmnopqrstuvwxyz".utf8)
        let favourite = sinceStart >= answerLength ? endToken : TokenID(letters[Int(hash % UInt64(letters.count))])
        let second = TokenID(letters[Int((hash >> 8) % UInt64(letters.count))])
        logits[Int(favourite)] += 10
        logits[Int(second)] += 8
        return logits
    }
}

/// A byte-level vocabulary with ChatML control tokens.
enum MockVocabulary {
    static func tokenizer() throws -> Tokenizer {
        var tokens = (0..<256).map { String(ByteLevel.scalarForByte[$0]) }
        tokens += ["<|im_start|>", "<|im_end|>", "<|endoftext|>"]
        var types = [TokenType](repeating: .normal, count: tokens.count)
        types[256] = .control
        types[257] = .control
        types[258] = .control
        return try Tokenizer(TokenizerConfiguration(
            tokens: tokens, tokenTypes: types, merges: [], preTokenizer: .gpt2, normalization: .none,
            eosID: 258, endOfGenerationIDs: [257]
        ))
    }
}
