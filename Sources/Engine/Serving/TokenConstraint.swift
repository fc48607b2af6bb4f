public import Generation
public import Tokenizers

/// A per-request constraint on which tokens may come next, compiled from a `ResponseConstraint` (the constraint
/// compiler lives in `Engine/Constraints/`). The sampler asks before every token and reports the choice.
public protocol TokenConstraintSession: Sendable {
    /// Computes the step's allowed set, given that at most `remainingTokens` more may be generated (a conformer
    /// forces the answer closed when the budget runs short).
    mutating func prepare(remainingTokens: Int)
    /// Whether `token` may come next (after `prepare`).
    func allows(_ token: TokenID) -> Bool
    /// The step's allowed set as a bitmask (after `prepare`), or nil when the conformer only answers per id. The
    /// mask is valid until the next `prepare` or `advance`; the sampler reads it a word at a time.
    func allowedMask() -> TokenMask?
    /// Records the chosen token.
    mutating func advance(_ token: TokenID) throws(GenerationError)
    /// True once the answer is complete (only end-of-generation tokens are allowed then).
    var isComplete: Bool { get }
}

extension TokenConstraintSession {
    public func allowedMask() -> TokenMask? { nil }
}

extension Sampler {
    /// The next token under `constraint` (after its `prepare`): through its bitmask when it has one, else asking
    /// `allows` per id; every id when there is no constraint. Returns nil when nothing is allowed.
    public mutating func next(_ logits: [Float], constraint: (any TokenConstraintSession)?) -> TokenID? {
        guard let constraint else { return next(logits, mask: nil) }
        if let mask = constraint.allowedMask() { return next(logits, mask: mask) }
        return next(logits, allowed: { constraint.allows($0) })
    }
}

/// Makes a constraint session for a request; nil means the constraint is not enforced while decoding (the
/// caller still parses the answer strictly).
public typealias ConstraintCompiler = @Sendable (ResponseConstraint, Tokenizer) throws(GenerationError) -> (any TokenConstraintSession)?
