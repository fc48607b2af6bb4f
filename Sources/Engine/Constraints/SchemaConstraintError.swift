/// Why a response constraint could not be compiled or followed.
///
/// Kept beside the constraint compiler until `EngineError` gains a `constraint` case (the engine's one public error
/// type); every message names the place in the schema (a JSON Pointer) and what was expected there.
public enum SchemaConstraintError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The schema uses a construct outside Sparrow's subset, or a keyword has a value of the wrong kind.
    case unsupported(pointer: String, reason: String)
    /// The schema is well-formed but no value can satisfy it (for example `minimum` above `maximum`).
    case unsatisfiable(pointer: String, reason: String)
    /// The shortest valid answer needs more tokens than the request allows.
    case budgetTooSmall(needed: Int, maxTokens: Int)
    /// The sampler chose a token the mask did not allow.
    case tokenNotAllowed(token: Int32, position: Int)

    public var description: String {
        switch self {
        case let .unsupported(pointer, reason): "schema at '\(pointer)': \(reason)"
        case let .unsatisfiable(pointer, reason): "schema at '\(pointer)' cannot be satisfied: \(reason)"
        case let .budgetTooSmall(needed, maxTokens):
            "the shortest answer the schema allows needs \(needed) tokens, but max_tokens is \(maxTokens)"
        case let .tokenNotAllowed(token, position):
            "token \(token) at answer position \(position) is not allowed by the constraint (expected a token from the mask)"
        }
    }
}
