/// A JSON Schema compiled into byte-level grammar nodes: immutable, `Sendable`, shared by every session that follows
/// the same schema. Built by `ConstraintProgram(schema:)` (see `SchemaCompiler.swift` for the supported subset).
///
/// The answer is compact JSON: no whitespace between tokens, object members in the order the schema lists them.
/// Every node is satisfiable and every state the matcher can reach can still be completed, so a sampler that only
/// picks allowed tokens can never paint itself into a corner.
public final class ConstraintProgram: Sendable {
    /// What kind each node is, and its index in the per-kind table.
    let nodes: [NodeKind]
    /// Fewest answer bytes that spell a complete value of each node.
    let minCost: [Int]
    let objects: [ObjectNode]
    let oneOfs: [OneOfNode]
    let arrays: [ArrayNode]
    let strings: [StringNode]
    let literals: [LiteralNode]
    let integers: [IntegerNode]
    /// Automata of string nodes, kept apart so `StringNode` stays a plain value (no reference counting per byte).
    let patterns: [PatternAutomaton]
    let substrings: [SuffixAutomaton]
    /// The node the whole answer is a value of.
    let root: Int32

    init(
        nodes: [NodeKind], minCost: [Int], objects: [ObjectNode], oneOfs: [OneOfNode], arrays: [ArrayNode],
        strings: [StringNode], literals: [LiteralNode], integers: [IntegerNode], patterns: [PatternAutomaton],
        substrings: [SuffixAutomaton], root: Int32
    ) {
        self.nodes = nodes
        self.minCost = minCost
        self.objects = objects
        self.oneOfs = oneOfs
        self.arrays = arrays
        self.strings = strings
        self.literals = literals
        self.integers = integers
        self.patterns = patterns
        self.substrings = substrings
        self.root = root
    }

    /// The pattern DFA of a string node, if it has one.
    @inline(__always)
    func pattern(of node: StringNode) -> PatternAutomaton? {
        node.pattern < 0 ? nil : patterns[Int(node.pattern)]
    }

    /// The substring automaton of a string node, if it has one.
    @inline(__always)
    func substring(of node: StringNode) -> SuffixAutomaton? {
        node.substring < 0 ? nil : substrings[Int(node.substring)]
    }

    /// Fewest bytes of a complete answer.
    public var shortestAnswerBytes: Int { minCost[Int(root)] }
}

/// A node's kind and its index into the program's table of that kind.
enum NodeKind: Sendable, Hashable {
    case object(Int)
    case oneOf(Int)
    case array(Int)
    case string(Int)
    case literal(Int)
    case integer(Int)
}

/// One property of an object, in schema order.
struct PropertyNode: Sendable {
    /// The key as it appears between the quotes (already JSON-escaped).
    let key: [UInt8]
    let value: Int32
    let required: Bool
}

/// An object with properties emitted in schema order; optional ones may be skipped, unknown ones never appear.
struct ObjectNode: Sendable {
    let properties: [PropertyNode]
    /// `closeAfter[p]`: fewest bytes that close the object when property `p` is the next that may come and at
    /// least one member was written: the remaining required members, each with its comma, then `}`.
    let closeAfter: [Int]
    /// `candidates[p]`: the properties that may come next when `p` is the first not yet passed (bit i = property i):
    /// `p` and the ones after it up to and including the first required one.
    let candidates: [UInt64]
    /// `canClose[p]`: no required property at or after `p`.
    let canClose: [Bool]
    /// Bytes of `"key":` plus the cheapest value, per property.
    let memberCost: [Int]
    /// Fewest bytes after `{`.
    let costAfterOpen: Int
}

/// `oneOf` of objects, told apart by their first property, which every branch requires and no other branch has.
struct OneOfNode: Sendable {
    /// Object node of each branch.
    let branches: [Int32]
    /// First key of each branch (JSON-escaped).
    let firstKeys: [[UInt8]]
    /// Bytes after `{"key` of the branch's first member to the end of the object: `":` + value + rest.
    let costAfterFirstKey: [Int]
}

/// An array of one item schema.
struct ArrayNode: Sendable {
    let items: Int32
    let minItems: Int
    /// `Int.max` when unbounded.
    let maxItems: Int
}

/// A free string (escapes allowed), optionally bounded in length (Unicode scalars), matching a pattern, or a
/// substring of a given text.
struct StringNode: Sendable {
    let minLength: Int
    /// `Int.max` when unbounded.
    let maxLength: Int
    /// Index into the program's `patterns`, or -1.
    let pattern: Int32
    /// Index into the program's `substrings`, or -1.
    let substring: Int32
}

/// A fixed set of byte strings: `enum`/`const` strings (with their quotes), `true`/`false`, `null`. No literal is
/// a prefix of another, so a literal ends as soon as one is fully matched.
struct LiteralNode: Sendable {
    let literals: [[UInt8]]
}

/// An integer in `minimum...maximum`, written without leading zeros or `-0`.
struct IntegerNode: Sendable {
    let minimum: Int64
    let maximum: Int64
}
