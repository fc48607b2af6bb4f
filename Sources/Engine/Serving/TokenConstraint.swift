public import Generation
public import Tokenizers

/// A per-request constraint on which tokens may come next, compiled from a `ResponseConstraint` (the constraint
/// compiler lives in `Engine/Constraints/`). The sampler asks before every token and reports the choice.
public protocol TokenConstraintSession: Sendable {
    /// Whether `token` may come next, given that at most `remainingTokens` more may be generated (a conformer
    /// forces the answer closed when the budget runs short).
    mutating func prepare(remainingTokens: Int)
    func allows(_ token: TokenID) -> Bool
    /// Records the chosen token.
    mutating func advance(_ token: TokenID) throws(GenerationError)
    /// True once the answer is complete (only end-of-generation tokens are allowed then).
    var isComplete: Bool { get }
}

/// Makes a constraint session for a request; nil means the constraint is not enforced while decoding (the
/// caller still parses the answer strictly).
public typealias ConstraintCompiler = @Sendable (ResponseConstraint, Tokenizer) throws(GenerationError) -> (any TokenConstraintSession)?
