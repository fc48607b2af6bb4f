import Engine
import Generation
import Tokenizers

/// A vocabulary of the 256 single bytes plus an end token (id 256), so a test can feed any byte string.
enum ByteVocabulary {
    static let trie = TokenTrie(pieces: (0..<256).map { [UInt8($0)] } + [[]], endOfGeneration: [256])

    /// Feeds `text` byte by byte; returns the number of bytes accepted before the first rejection, and whether the
    /// whole text is a complete answer.
    static func run(_ schema: JSONValue, _ text: String, maxTokens: Int = 10_000) throws -> (accepted: Int, complete: Bool) {
        let session = try ConstraintSession(program: try ConstraintProgram(schema: schema), trie: trie, maxTokens: maxTokens)
        var accepted = 0
        for byte in text.utf8 {
            guard session.allows(TokenID(byte)) else { return (accepted, false) }
            try session.advance(TokenID(byte))
            accepted += 1
        }
        return (accepted, session.canEnd)
    }
}

/// Builds schema values tersely.
func schemaObject(_ members: (String, JSONValue)...) -> JSONValue {
    .object(members.map { JSONValue.Member($0.0, $0.1) })
}
