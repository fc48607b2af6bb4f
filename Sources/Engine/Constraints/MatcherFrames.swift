/// One open value on the matcher's stack. Frames are plain values: copying one never allocates or retains.
/// Each frame's `node` is an index into the program's table of its kind.
enum Frame: Hashable {
    /// The whole answer is written.
    case done
    case object(ObjectFrame)
    case array(ArrayFrame)
    case string(StringFrame)
    case literal(LiteralFrame)
    case integer(IntegerFrame)
}

/// An object, or a `oneOf` of objects until its first key picks the branch.
struct ObjectFrame: Hashable {
    enum Phase: UInt8 {
        /// Expects `{`.
        case start
        /// After `{`: a first key or `}`.
        case afterOpen
        /// After `,`: expects `"` of a key.
        case afterComma
        /// Inside a key; `candidates` are the properties it can still be, `offset` bytes matched.
        case key
        /// After a key's closing quote: expects `:`.
        case afterKey
        /// After `:`: the next byte starts the value of property `next`.
        case beforeValue
        /// A member was written; `next` is the first property not yet passed.
        case afterValue
        /// `oneOf`: expects `{`; then `"`; then a key over the branches' first keys (`candidates` = branches).
        case branchStart, branchAfterOpen, branchKey
    }

    var node: Int32
    var phase: Phase
    /// Next property index, or the chosen property after its key.
    var next: Int32 = 0
    var candidates: UInt64 = 0
    var offset: Int32 = 0
}

/// An array.
struct ArrayFrame: Hashable {
    enum Phase: UInt8 {
        case start, afterOpen, afterComma, afterValue
    }

    var node: Int32
    var phase: Phase
    /// Items started so far.
    var count: Int32 = 0
}

/// A string being read: escapes, UTF-8 validity, length and automaton state.
struct StringFrame: Hashable {
    enum Phase: UInt8 {
        case start, content, escape
    }

    var node: Int32
    var phase: Phase
    /// Continuation bytes still expected for the current scalar.
    var pending: UInt8 = 0
    /// Allowed range of the next continuation byte (UTF-8 forbids overlong forms and surrogates).
    var low: UInt8 = 0x80
    var high: UInt8 = 0xBF
    /// Bits of the scalar read so far.
    var scalar: UInt32 = 0
    /// Scalars so far.
    var count: Int32 = 0
    /// Pattern DFA state or suffix-automaton state (0 at the start).
    var automaton: Int32 = 0
}

/// One of a fixed set of byte strings.
struct LiteralFrame: Hashable {
    var node: Int32
    var candidates: UInt64
    var offset: Int32 = 0
}

/// An integer being read.
struct IntegerFrame: Hashable {
    var node: Int32
    var negative = false
    var digits: UInt8 = 0
    var magnitude: Int64 = 0
}

/// A frame waiting for its child value, with the fewest bytes that close it and everything below it.
struct SuspendedFrame {
    var frame: Frame
    var parent: Int32
    var closingCost: Int
}

/// The matcher's position: the open frame, and the suspended ones below it (an index into the matcher's arena).
struct MatcherState: Hashable {
    var top: Frame
    /// Index of the suspended parent in the arena, or -1 at the root.
    var parent: Int32
}
