internal import CYAML
import Foundation

/// Bounds that keep hostile input from using unbounded time or memory. They are checked on libyaml's event
/// stream, before the tree grows.
public struct YAMLLimits: Sendable, Hashable {
    /// Largest accepted document, in bytes.
    public var maxBytes: Int
    /// Deepest nesting of sequences and mappings.
    public var maxDepth: Int
    /// Most nodes in the tree, counting every node an alias repeats ("billion laughs" stops here).
    public var maxNodes: Int

    public init(maxBytes: Int = 1 << 20, maxDepth: Int = 64, maxNodes: Int = 100_000) {
        self.maxBytes = maxBytes
        self.maxDepth = maxDepth
        self.maxNodes = maxNodes
    }

    /// The limits `sparrow` applies to job specs: 1 MiB, 64 levels, 100,000 nodes.
    public static let jobSpec = YAMLLimits()
}

/// Why a YAML document could not be read. Each is fatal for the file: nothing after it is trustworthy.
public struct YAMLError: Error, Sendable, Hashable {
    public var message: String
    public var location: SourceLocation

    public init(_ message: String, at location: SourceLocation) {
        self.message = message
        self.location = location
    }
}

/// Reads one YAML document into a `YAMLNode` tree through libyaml's event API.
public enum YAMLReader {
    /// Parses `bytes` (UTF-8, or UTF-16 with a byte-order mark). Returns nil for a stream with no document (an empty
    /// file or one with only comments).
    public static func parse(_ bytes: [UInt8], limits: YAMLLimits = .jobSpec) throws(YAMLError) -> YAMLNode? {
        guard bytes.count <= limits.maxBytes else {
            throw YAMLError(
                "the document is \(ByteCountText.describe(bytes.count)); the limit is \(ByteCountText.describe(limits.maxBytes))",
                at: SourceLocation(line: 1, column: 1)
            )
        }
        let result: Result<YAMLNode?, YAMLError> = bytes.withUnsafeBufferPointer { buffer in
            var builder = TreeBuilder(limits: limits, bytes: buffer)
            return builder.run()
        }
        return try result.get()
    }
}

/// Turns the event stream into a tree with an explicit stack of open containers (no recursion).
private struct TreeBuilder {
    /// A sequence or mapping whose end event has not come yet.
    private struct OpenContainer {
        var isMapping: Bool
        var location: SourceLocation
        var anchor: String?
        var children: [YAMLNode] = []
        var nodeCount = 1
    }

    /// A completed anchored node and how many nodes it holds (what each alias to it costs).
    private struct Anchored {
        var node: YAMLNode
        var nodeCount: Int
    }

    let limits: YAMLLimits
    let bytes: UnsafeBufferPointer<UInt8>
    private var stack: [OpenContainer] = []
    private var anchors: [String: Anchored] = [:]
    private var openAnchors: Set<String> = []
    private var totalNodes = 0
    private var root: YAMLNode?
    private var documents = 0

    init(limits: YAMLLimits, bytes: UnsafeBufferPointer<UInt8>) {
        self.limits = limits
        self.bytes = bytes
    }

    mutating func run() -> Result<YAMLNode?, YAMLError> {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else {
            return .failure(YAMLError("libyaml could not start (out of memory)", at: SourceLocation(line: 1, column: 1)))
        }
        defer { yaml_parser_delete(&parser) }
        if let base = bytes.baseAddress {
            yaml_parser_set_input_string(&parser, base, bytes.count)
        } else {
            return .success(nil)
        }
        while true {
            var event = yaml_event_t()
            guard yaml_parser_parse(&parser, &event) == 1 else {
                return .failure(parserError(parser))
            }
            defer { yaml_event_delete(&event) }
            if event.type == YAML_STREAM_END_EVENT { break }
            if let error = handle(event) { return .failure(error) }
        }
        return .success(root)
    }

    private mutating func handle(_ event: yaml_event_t) -> YAMLError? {
        let location = SourceLocation(line: Int(event.start_mark.line) + 1, column: Int(event.start_mark.column) + 1)
        switch event.type {
        case YAML_DOCUMENT_START_EVENT:
            documents += 1
            if documents > 1 {
                return YAMLError("a second YAML document starts here; a job spec is exactly one document", at: location)
            }
        case YAML_SCALAR_EVENT:
            let data = event.data.scalar
            let text = Self.string(data.value, count: Int(data.length)) ?? ""
            let scalar = YAMLNode.Scalar(text: text, style: Self.style(data.style), tag: Self.string(data.tag))
            return add(YAMLNode(.scalar(scalar), at: location), nodeCount: 1, anchor: Self.string(data.anchor))
        case YAML_ALIAS_EVENT:
            let name = Self.string(event.data.alias.anchor) ?? ""
            if openAnchors.contains(name) {
                return YAMLError("alias *\(name) refers to a node that contains it", at: location)
            }
            guard let target = anchors[name] else {
                return YAMLError("alias *\(name) has no anchor &\(name) before it", at: location)
            }
            return add(target.node, nodeCount: target.nodeCount, anchor: nil)
        case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
            guard stack.count < limits.maxDepth else {
                return YAMLError("nesting is deeper than \(limits.maxDepth) levels", at: location)
            }
            let isMapping = event.type == YAML_MAPPING_START_EVENT
            let anchor = isMapping ? Self.string(event.data.mapping_start.anchor) : Self.string(event.data.sequence_start.anchor)
            if let anchor { openAnchors.insert(anchor) }
            stack.append(OpenContainer(isMapping: isMapping, location: location, anchor: anchor))
            return countNodes(1, at: location)
        case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
            guard let open = stack.popLast() else { return nil }
            if let anchor = open.anchor { openAnchors.remove(anchor) }
            let content: YAMLNode.Content
            if open.isMapping {
                var pairs: [YAMLNode.Pair] = []
                pairs.reserveCapacity(open.children.count / 2)
                var index = 0
                while index + 1 < open.children.count {
                    pairs.append(YAMLNode.Pair(key: open.children[index], value: open.children[index + 1]))
                    index += 2
                }
                content = .mapping(pairs)
            } else {
                content = .sequence(open.children)
            }
            return attach(YAMLNode(content, at: open.location), nodeCount: open.nodeCount, anchor: open.anchor)
        default:
            break
        }
        return nil
    }

    /// Adds a scalar or an alias's copy; containers count themselves when they open.
    private mutating func add(_ node: YAMLNode, nodeCount: Int, anchor: String?) -> YAMLError? {
        if let error = countNodes(nodeCount, at: node.location) { return error }
        return attach(node, nodeCount: nodeCount, anchor: anchor)
    }

    private mutating func attach(_ node: YAMLNode, nodeCount: Int, anchor: String?) -> YAMLError? {
        if let anchor { anchors[anchor] = Anchored(node: node, nodeCount: nodeCount) }
        if stack.isEmpty {
            root = node
        } else {
            stack[stack.count - 1].children.append(node)
            stack[stack.count - 1].nodeCount += nodeCount
        }
        return nil
    }

    private mutating func countNodes(_ count: Int, at location: SourceLocation) -> YAMLError? {
        totalNodes += count
        guard totalNodes <= limits.maxNodes else {
            return YAMLError(
                "the document expands to more than \(limits.maxNodes) nodes (through aliases or sheer size)",
                at: location
            )
        }
        return nil
    }

    private func parserError(_ parser: yaml_parser_t) -> YAMLError {
        let problem = Self.string(parser.problem) ?? "unreadable YAML"
        switch parser.error {
        case YAML_READER_ERROR:
            let location = locate(byteOffset: Int(parser.problem_offset))
            let detail = parser.problem_value >= 0 ? String(format: " (byte 0x%02X)", parser.problem_value & 0xFF) : ""
            let what = if problem.contains("UTF-8") || problem.contains("UTF-16") {
                "the file is not valid UTF-8 text: "
            } else if problem.contains("control characters") {
                "the file is not YAML text (binary?): "
            } else {
                ""
            }
            return YAMLError("\(what)\(problem)\(detail) at byte offset \(parser.problem_offset)", at: location)
        case YAML_MEMORY_ERROR:
            return YAMLError("libyaml ran out of memory", at: SourceLocation(line: 1, column: 1))
        default:
            let mark = parser.problem_mark
            let location = SourceLocation(line: Int(mark.line) + 1, column: Int(mark.column) + 1)
            var message = "YAML syntax: \(problem)"
            if let context = Self.string(parser.context) {
                let contextMark = parser.context_mark
                message += " (\(context) at \(contextMark.line + 1):\(contextMark.column + 1))"
            }
            return YAMLError(message, at: location)
        }
    }

    /// Line and column of a byte offset, for reader errors where libyaml gives only the offset.
    private func locate(byteOffset: Int) -> SourceLocation {
        var line = 1
        var column = 1
        for byte in bytes.prefix(min(byteOffset, bytes.count)) {
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }
        return SourceLocation(line: line, column: column)
    }

    private static func style(_ style: yaml_scalar_style_t) -> YAMLNode.ScalarStyle {
        switch style {
        case YAML_SINGLE_QUOTED_SCALAR_STYLE: .singleQuoted
        case YAML_DOUBLE_QUOTED_SCALAR_STYLE: .doubleQuoted
        case YAML_LITERAL_SCALAR_STYLE: .literal
        case YAML_FOLDED_SCALAR_STYLE: .folded
        default: .plain
        }
    }

    private static func string(_ pointer: UnsafeMutablePointer<UInt8>?, count: Int) -> String? {
        guard let pointer else { return nil }
        return String(decoding: UnsafeBufferPointer(start: pointer, count: count), as: UTF8.self)
    }

    private static func string(_ pointer: UnsafeMutablePointer<UInt8>?) -> String? {
        guard let pointer else { return nil }
        return String(cString: pointer)
    }

    private static func string(_ pointer: UnsafePointer<CChar>?) -> String? {
        guard let pointer else { return nil }
        return String(cString: pointer)
    }
}
