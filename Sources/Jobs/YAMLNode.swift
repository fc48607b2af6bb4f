/// A YAML node with the position where it starts: the small tree a spec is decoded from.
///
/// The tree is built without recursion from libyaml's event stream (see `YAMLReader`), and its depth is bounded by
/// `YAMLLimits.maxDepth`, so walking or releasing it cannot exhaust the stack.
public struct YAMLNode: Sendable, Hashable {
    /// How a scalar was written; quoting decides whether `123` is a number or text.
    public enum ScalarStyle: Sendable, Hashable {
        case plain, singleQuoted, doubleQuoted, literal, folded
    }

    /// A scalar's text, style and explicit tag (`!!str`, …) if any.
    public struct Scalar: Sendable, Hashable {
        public var text: String
        public var style: ScalarStyle
        public var tag: String?

        public init(text: String, style: ScalarStyle, tag: String? = nil) {
            self.text = text
            self.style = style
            self.tag = tag
        }

        /// True for a plain scalar that YAML reads as null (`~`, `null`, nothing at all).
        public var isNull: Bool {
            style == .plain && tag == nil && ["", "~", "null", "Null", "NULL"].contains(text)
        }
    }

    /// One key/value entry of a mapping, in written order.
    public struct Pair: Sendable, Hashable {
        public var key: YAMLNode
        public var value: YAMLNode

        public init(key: YAMLNode, value: YAMLNode) {
            self.key = key
            self.value = value
        }
    }

    public enum Content: Sendable, Hashable {
        case scalar(Scalar)
        case sequence([YAMLNode])
        case mapping([Pair])
    }

    public var content: Content
    /// Where the node starts in the file.
    public var location: SourceLocation

    public init(_ content: Content, at location: SourceLocation) {
        self.content = content
        self.location = location
    }

    /// The scalar, if this node is one.
    public var scalar: Scalar? {
        if case let .scalar(scalar) = content { scalar } else { nil }
    }
}
