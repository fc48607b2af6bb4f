import Foundation
public import Generation
public import Tokenizers

/// Plugs the constraint compiler into the serving loop (`LocalEngine(constraintCompiler:)`).
public enum ConstraintCompilers {
    /// A `ConstraintCompiler` for `tokenizer`'s vocabulary: the vocabulary is indexed once, here, and each distinct
    /// schema is compiled once and shared by every request that uses it.
    public static func jsonSchema(for tokenizer: Tokenizer) -> ConstraintCompiler {
        let trie = TokenTrie(tokenizer: tokenizer)
        let programs = ProgramCache()
        return { constraint, requestTokenizer throws(GenerationError) in
            guard requestTokenizer.vocabularySize == trie.vocabularySize else {
                throw .invalidRequest(
                    requestID: "", reason: "the constraint compiler indexed a vocabulary of \(trie.vocabularySize) tokens, "
                        + "the request's has \(requestTokenizer.vocabularySize)"
                )
            }
            switch constraint {
            case let .jsonSchema(name, schema):
                do throws(SchemaConstraintError) {
                    let program = try programs.program(for: schema)
                    return JSONSchemaTokenConstraint(session: try ConstraintSession(program: program, trie: trie, maxTokens: Int.max))
                } catch {
                    throw .invalidRequest(requestID: "", reason: "response schema '\(name)': \(error.description)")
                }
            }
        }
    }

    /// Compiled programs by schema, shared across requests (and threads).
    private final class ProgramCache: @unchecked Sendable {
        private let lock = NSLock()
        private var programs: [JSONValue: ConstraintProgram] = [:]

        func program(for schema: JSONValue) throws(SchemaConstraintError) -> ConstraintProgram {
            lock.lock()
            defer { lock.unlock() }
            if let program = programs[schema] { return program }
            let program = try ConstraintProgram(schema: schema)
            if programs.count >= 64 { programs.removeAll() }
            programs[schema] = program
            return program
        }
    }
}

/// A `ConstraintSession` behind the engine's `TokenConstraintSession` protocol: `prepare` computes the step's mask
/// once (for the budget the scheduler gives); `allowedMask` hands it to the sampler, `allows` reads one bit of it.
///
/// `@unchecked Sendable`: the session is a mutable reference, but the batch scheduler owns each request's
/// constraint and calls it from one task at a time, never concurrently.
public struct JSONSchemaTokenConstraint: TokenConstraintSession, @unchecked Sendable {
    public let session: ConstraintSession
    private var mask: TokenMask?

    public init(session: ConstraintSession) {
        self.session = session
    }

    public mutating func prepare(remainingTokens: Int) {
        session.limitRemainingTokens(to: remainingTokens)
        mask = session.allowedTokens()
    }

    public func allows(_ token: TokenID) -> Bool {
        mask?.contains(token) ?? session.allows(token)
    }

    public func allowedMask() -> TokenMask? { mask }

    public mutating func advance(_ token: TokenID) throws(GenerationError) {
        mask = nil
        do {
            try session.advance(token)
        } catch {
            throw .constraintViolated(requestID: "", reason: error.description)
        }
    }

    public var isComplete: Bool { session.mustEnd }
}
