public import Generation

/// Compiles Sparrow's JSON Schema subset into a `ConstraintProgram`.
///
/// Supported (anything else that could change which values are valid is an error naming its JSON Pointer):
/// - `type: object` with `properties` (members are written in this order), `required`, `additionalProperties`
///   (`false`, `true` or absent: answers never contain unlisted members);
/// - `type: string` with `minLength`, `maxLength` (Unicode scalars), `pattern` (see `PatternAutomaton`), and
///   Sparrow's `x-sparrow-substring-of` (the decoded string must be a substring of the given text; `minLength` 0 or 1)
///   and `x-sparrow-unique-substring-of` (a non-empty substring that occurs exactly once in the text, so an edit's
///   search text names one place; no `maxLength`);
/// - `enum` / `const` of strings, booleans or `null`;
/// - `type: integer` with `minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum` (default bounds ±(2^53−1));
/// - `type: boolean`, `type: null`;
/// - `type: array` with `items`, `minItems`, `maxItems`;
/// - `oneOf` of object schemas whose first property is required in that branch and appears in no other branch,
///   so the first key decides the branch and an answer can never match two branches.
/// Annotations (`title`, `description`, `default`, `examples`, `$schema`, `$id`, `$comment`) are ignored.
extension ConstraintProgram {
    /// The name of Sparrow's string keyword that limits a string to substrings of a text (after JSON unescaping).
    public static let substringKeyword = "x-sparrow-substring-of"
    /// The name of Sparrow's string keyword that limits a string to non-empty substrings occurring exactly once in a
    /// text (after JSON unescaping).
    public static let uniqueSubstringKeyword = "x-sparrow-unique-substring-of"

    /// Compiles `schema`.
    public convenience init(schema: JSONValue) throws(SchemaConstraintError) {
        var builder = ProgramBuilder()
        let root = try builder.compile(schema, pointer: "", depth: 0)
        self.init(
            nodes: builder.nodes, minCost: builder.minCost, objects: builder.objects, oneOfs: builder.oneOfs,
            arrays: builder.arrays, strings: builder.strings, literals: builder.literals, integers: builder.integers,
            patterns: builder.patterns, substrings: builder.substrings, root: root
        )
    }
}

/// Mutable tables filled while compiling; children are compiled before their parent.
struct ProgramBuilder {
    var nodes: [NodeKind] = []
    var minCost: [Int] = []
    var objects: [ObjectNode] = []
    var oneOfs: [OneOfNode] = []
    var arrays: [ArrayNode] = []
    var strings: [StringNode] = []
    var literals: [LiteralNode] = []
    var integers: [IntegerNode] = []
    var patterns: [PatternAutomaton] = []
    var substrings: [SuffixAutomaton] = []

    static let maximumDepth = 32
    static let maximumProperties = 64
    static let maximumLiterals = 64
    /// Integers default to the range a double holds exactly.
    static let safeInteger: Int64 = (1 << 53) - 1
    static let annotations: Set<String> = ["title", "description", "default", "examples", "$schema", "$id", "$comment"]

    private mutating func add(_ kind: NodeKind, cost: Int) -> Int32 {
        nodes.append(kind)
        minCost.append(cost)
        return Int32(nodes.count - 1)
    }

    mutating func compile(_ schema: JSONValue, pointer: String, depth: Int) throws(SchemaConstraintError) -> Int32 {
        guard depth <= Self.maximumDepth else {
            throw .unsupported(pointer: pointer, reason: "nesting deeper than \(Self.maximumDepth) levels")
        }
        guard case let .object(members) = schema else {
            throw .unsupported(pointer: pointer, reason: "expected a schema object, found \(Self.describe(schema))")
        }
        var keywords: [String: JSONValue] = [:]
        for member in members { keywords[member.key] = member.value }
        if let branches = keywords["oneOf"] {
            try Self.allow(keywords, ["oneOf", "type"], pointer: pointer)
            if let type = keywords["type"], type != .string("object") {
                throw .unsupported(pointer: pointer + "/type", reason: "oneOf is supported for objects only (expected \"object\")")
            }
            return try compileOneOf(branches, pointer: pointer + "/oneOf", depth: depth)
        }
        if keywords["enum"] != nil || keywords["const"] != nil {
            try Self.allow(keywords, ["enum", "const", "type"], pointer: pointer)
            return try compileLiterals(keywords, pointer: pointer)
        }
        guard let typeValue = keywords["type"] else {
            throw .unsupported(pointer: pointer, reason: "expected a 'type', 'enum', 'const' or 'oneOf'")
        }
        guard case let .string(type) = typeValue else {
            throw .unsupported(pointer: pointer + "/type", reason: "expected one type name as a string")
        }
        switch type {
        case "object":
            try Self.allow(keywords, ["type", "properties", "required", "additionalProperties"], pointer: pointer)
            return try compileObject(keywords, pointer: pointer, depth: depth)
        case "array":
            try Self.allow(keywords, ["type", "items", "minItems", "maxItems"], pointer: pointer)
            return try compileArray(keywords, pointer: pointer, depth: depth)
        case "string":
            try Self.allow(
                keywords,
                ["type", "minLength", "maxLength", "pattern", ConstraintProgram.substringKeyword,
                 ConstraintProgram.uniqueSubstringKeyword],
                pointer: pointer
            )
            return try compileString(keywords, pointer: pointer)
        case "integer":
            try Self.allow(keywords, ["type", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"], pointer: pointer)
            return try compileInteger(keywords, pointer: pointer)
        case "boolean":
            try Self.allow(keywords, ["type"], pointer: pointer)
            literals.append(LiteralNode(literals: [Array("true".utf8), Array("false".utf8)]))
            return add(.literal(literals.count - 1), cost: 4)
        case "null":
            try Self.allow(keywords, ["type"], pointer: pointer)
            literals.append(LiteralNode(literals: [Array("null".utf8)]))
            return add(.literal(literals.count - 1), cost: 4)
        default:
            throw .unsupported(
                pointer: pointer + "/type",
                reason: "type '\(type)' is not supported (expected object, array, string, integer, boolean or null)"
            )
        }
    }

    // MARK: Objects

    private mutating func compileObject(
        _ keywords: [String: JSONValue], pointer: String, depth: Int
    ) throws(SchemaConstraintError) -> Int32 {
        if let additional = keywords["additionalProperties"], case .bool = additional {} else if keywords["additionalProperties"] != nil {
            throw .unsupported(pointer: pointer + "/additionalProperties", reason: "expected true or false")
        }
        var propertyMembers: [JSONValue.Member] = []
        if let value = keywords["properties"] {
            guard case let .object(members) = value else {
                throw .unsupported(pointer: pointer + "/properties", reason: "expected an object of schemas")
            }
            propertyMembers = members
        }
        guard propertyMembers.count <= Self.maximumProperties else {
            throw .unsupported(pointer: pointer + "/properties", reason: "more than \(Self.maximumProperties) properties")
        }
        var required = Set<String>()
        if let value = keywords["required"] {
            guard case let .array(names) = value else {
                throw .unsupported(pointer: pointer + "/required", reason: "expected an array of property names")
            }
            for (index, name) in names.enumerated() {
                guard case let .string(text) = name, propertyMembers.contains(where: { $0.key == text }) else {
                    throw .unsupported(
                        pointer: pointer + "/required/\(index)", reason: "expected the name of a property listed in 'properties'"
                    )
                }
                required.insert(text)
            }
        }
        var seen = Set<String>()
        var properties: [PropertyNode] = []
        for member in propertyMembers {
            let childPointer = pointer + "/properties/" + Self.escapePointer(member.key)
            guard seen.insert(member.key).inserted else {
                throw .unsupported(pointer: childPointer, reason: "property listed twice")
            }
            let value = try compile(member.value, pointer: childPointer, depth: depth + 1)
            properties.append(PropertyNode(key: JSONStringEncoding.content(member.key), value: value, required: required.contains(member.key)))
        }
        let count = properties.count
        let memberCost = properties.map { $0.key.count + 3 + minCost[Int($0.value)] }
        var closeAfter = [Int](repeating: 1, count: count + 1)
        var canClose = [Bool](repeating: true, count: count + 1)
        var firstRequired = [Int](repeating: count, count: count + 1)
        for index in stride(from: count - 1, through: 0, by: -1) {
            let isRequired = properties[index].required
            closeAfter[index] = closeAfter[index + 1] + (isRequired ? 1 + memberCost[index] : 0)
            canClose[index] = canClose[index + 1] && !isRequired
            firstRequired[index] = isRequired ? index : firstRequired[index + 1]
        }
        var candidates = [UInt64](repeating: 0, count: count + 1)
        for index in 0..<count {
            let last = min(firstRequired[index], count - 1)
            for candidate in index...last { candidates[index] |= 1 << UInt64(candidate) }
        }
        let costAfterOpen = canClose[0] ? 1 : closeAfter[0] - 1
        objects.append(ObjectNode(
            properties: properties, closeAfter: closeAfter, candidates: candidates, canClose: canClose,
            memberCost: memberCost, costAfterOpen: costAfterOpen
        ))
        return add(.object(objects.count - 1), cost: 1 + costAfterOpen)
    }

    private mutating func compileOneOf(_ value: JSONValue, pointer: String, depth: Int) throws(SchemaConstraintError) -> Int32 {
        guard case let .array(schemas) = value, !schemas.isEmpty, schemas.count <= Self.maximumProperties else {
            throw .unsupported(pointer: pointer, reason: "expected an array of 1 to \(Self.maximumProperties) object schemas")
        }
        var branches: [Int32] = []
        for (index, schema) in schemas.enumerated() {
            let node = try compile(schema, pointer: pointer + "/\(index)", depth: depth + 1)
            guard case let .object(objectIndex) = nodes[Int(node)], let first = objects[objectIndex].properties.first,
                  first.required else {
                throw .unsupported(
                    pointer: pointer + "/\(index)",
                    reason: "each oneOf branch must be an object whose first property is required (it tells the branches apart)"
                )
            }
            branches.append(node)
        }
        var firstKeys: [[UInt8]] = []
        var costAfterFirstKey: [Int] = []
        for (index, branch) in branches.enumerated() {
            guard case let .object(objectIndex) = nodes[Int(branch)] else { continue }
            let object = objects[objectIndex]
            let key = object.properties[0].key
            for (otherIndex, other) in branches.enumerated() where otherIndex != index {
                guard case let .object(otherObject) = nodes[Int(other)] else { continue }
                if objects[otherObject].properties.contains(where: { $0.key == key }) {
                    throw .unsupported(
                        pointer: pointer + "/\(index)",
                        reason: "the first property '\(String(decoding: key, as: UTF8.self))' also appears in branch \(otherIndex); "
                            + "expected a first property unique to each branch"
                    )
                }
            }
            firstKeys.append(key)
            costAfterFirstKey.append(2 + minCost[Int(object.properties[0].value)] + object.closeAfter[1])
        }
        let cost = zip(firstKeys, costAfterFirstKey).map { 2 + $0.count + $1 }.min() ?? 0
        oneOfs.append(OneOfNode(branches: branches, firstKeys: firstKeys, costAfterFirstKey: costAfterFirstKey))
        return add(.oneOf(oneOfs.count - 1), cost: cost)
    }

    // MARK: Arrays, strings, literals, integers

    private mutating func compileArray(_ keywords: [String: JSONValue], pointer: String, depth: Int) throws(SchemaConstraintError) -> Int32 {
        guard let itemSchema = keywords["items"] else {
            throw .unsupported(pointer: pointer, reason: "expected 'items' (arrays of any value are not supported)")
        }
        let items = try compile(itemSchema, pointer: pointer + "/items", depth: depth + 1)
        let minItems = try Self.count(keywords["minItems"], pointer: pointer + "/minItems") ?? 0
        let maxItems = try Self.count(keywords["maxItems"], pointer: pointer + "/maxItems") ?? Int.max
        guard minItems <= maxItems else {
            throw .unsatisfiable(pointer: pointer, reason: "minItems \(minItems) is above maxItems \(maxItems)")
        }
        let itemCost = minCost[Int(items)]
        let costAfterOpen = minItems == 0 ? 1 : minItems * (itemCost + 1)
        arrays.append(ArrayNode(items: items, minItems: minItems, maxItems: maxItems))
        return add(.array(arrays.count - 1), cost: 1 + costAfterOpen)
    }

    private mutating func compileString(_ keywords: [String: JSONValue], pointer: String) throws(SchemaConstraintError) -> Int32 {
        let minLength = try Self.count(keywords["minLength"], pointer: pointer + "/minLength") ?? 0
        let maxLength = try Self.count(keywords["maxLength"], pointer: pointer + "/maxLength") ?? Int.max
        guard minLength <= maxLength else {
            throw .unsatisfiable(pointer: pointer, reason: "minLength \(minLength) is above maxLength \(maxLength)")
        }
        var pattern: PatternAutomaton?
        var substring: SuffixAutomaton?
        var contentCost = minLength
        if let value = keywords["pattern"] {
            guard case let .string(source) = value else {
                throw .unsupported(pointer: pointer + "/pattern", reason: "expected a regular expression as a string")
            }
            guard minLength == 0 else {
                throw .unsupported(pointer: pointer, reason: "minLength together with pattern is not supported (put the length in the pattern)")
            }
            let automaton: PatternAutomaton
            do { automaton = try PatternAutomaton(pattern: source) } catch {
                throw .unsupported(pointer: pointer + "/pattern", reason: error.description)
            }
            guard automaton.distanceChars[0] <= maxLength else {
                throw .unsatisfiable(pointer: pointer, reason: "no string matching the pattern fits maxLength \(maxLength)")
            }
            pattern = automaton
            contentCost = automaton.distanceBytes[0]
        }
        if keywords[ConstraintProgram.substringKeyword] != nil, keywords[ConstraintProgram.uniqueSubstringKeyword] != nil {
            throw .unsupported(pointer: pointer, reason: "\(ConstraintProgram.substringKeyword) and "
                               + "\(ConstraintProgram.uniqueSubstringKeyword) together (use one)")
        }
        if let value = keywords[ConstraintProgram.uniqueSubstringKeyword] {
            let keyword = ConstraintProgram.uniqueSubstringKeyword
            guard case let .string(text) = value else {
                throw .unsupported(pointer: pointer + "/" + keyword, reason: "expected the text as a string")
            }
            guard pattern == nil, minLength <= 1, maxLength == Int.max else {
                throw .unsupported(pointer: pointer, reason: "\(keyword) allows minLength 0 or 1, no maxLength and no pattern")
            }
            let automaton = SuffixAutomaton(text: Array(text.utf8), unique: true)
            guard automaton.uniqueStartCost != Int32.max else {
                throw .unsatisfiable(pointer: pointer, reason: "the text has no substring that occurs once and a JSON string can spell")
            }
            contentCost = Int(automaton.uniqueStartCost)
            substring = automaton
        } else if let value = keywords[ConstraintProgram.substringKeyword] {
            guard case let .string(text) = value else {
                throw .unsupported(pointer: pointer + "/" + ConstraintProgram.substringKeyword, reason: "expected the text as a string")
            }
            guard pattern == nil, minLength <= 1 else {
                throw .unsupported(
                    pointer: pointer, reason: "\(ConstraintProgram.substringKeyword) allows minLength 0 or 1 and no pattern"
                )
            }
            let automaton = SuffixAutomaton(text: Array(text.utf8))
            if minLength == 1 {
                guard let first = automaton.cheapestFirstCharBytes else {
                    throw .unsatisfiable(pointer: pointer, reason: "the text has no character a JSON string can spell")
                }
                contentCost = first
            }
            substring = automaton
        }
        var patternIndex: Int32 = -1
        var substringIndex: Int32 = -1
        if let pattern {
            patterns.append(pattern)
            patternIndex = Int32(patterns.count - 1)
        }
        if let substring {
            substrings.append(substring)
            substringIndex = Int32(substrings.count - 1)
        }
        strings.append(StringNode(minLength: minLength, maxLength: maxLength, pattern: patternIndex, substring: substringIndex))
        return add(.string(strings.count - 1), cost: 2 + contentCost)
    }

    private mutating func compileLiterals(_ keywords: [String: JSONValue], pointer: String) throws(SchemaConstraintError) -> Int32 {
        var values: [JSONValue] = []
        var valuesPointer = pointer + "/const"
        if let constant = keywords["const"] { values.append(constant) }
        if let value = keywords["enum"] {
            valuesPointer = pointer + "/enum"
            guard case let .array(items) = value, !items.isEmpty, items.count <= Self.maximumLiterals else {
                throw .unsupported(pointer: valuesPointer, reason: "expected an array of 1 to \(Self.maximumLiterals) values")
            }
            guard keywords["const"] == nil else { throw .unsupported(pointer: pointer, reason: "expected enum or const, not both") }
            values = items
        }
        var encoded: [[UInt8]] = []
        for (index, value) in values.enumerated() {
            let bytes: [UInt8]
            switch value {
            case let .string(text): bytes = [0x22] + JSONStringEncoding.content(text) + [0x22]
            case let .bool(flag): bytes = Array((flag ? "true" : "false").utf8)
            case .null: bytes = Array("null".utf8)
            default:
                throw .unsupported(pointer: valuesPointer + "/\(index)", reason: "expected a string, boolean or null")
            }
            if !encoded.contains(bytes) { encoded.append(bytes) }
        }
        if let type = keywords["type"] {
            let allowed: Set<String> = values.allSatisfy({ if case .string = $0 { true } else { false } }) ? ["string"]
                : values.allSatisfy({ if case .bool = $0 { true } else { false } }) ? ["boolean"] : []
            guard case let .string(name) = type, allowed.contains(name) else {
                throw .unsupported(pointer: pointer + "/type", reason: "expected the type of every enum/const value")
            }
        }
        literals.append(LiteralNode(literals: encoded))
        return add(.literal(literals.count - 1), cost: encoded.map(\.count).min() ?? 0)
    }

    private mutating func compileInteger(_ keywords: [String: JSONValue], pointer: String) throws(SchemaConstraintError) -> Int32 {
        var minimum = -Self.safeInteger
        var maximum = Self.safeInteger
        for (name, isLower, offset) in [("minimum", true, 0.0), ("exclusiveMinimum", true, 1), ("maximum", false, 0), ("exclusiveMaximum", false, -1)] {
            guard let value = keywords[name] else { continue }
            guard case let .number(number) = value, number.isFinite, abs(number) <= Double(Self.safeInteger) else {
                throw .unsupported(pointer: pointer + "/" + name, reason: "expected a number within ±(2^53−1)")
            }
            if isLower {
                minimum = max(minimum, Int64((number + offset).rounded(offset == 0 ? .up : .down)))
                if offset != 0, number.rounded(.down) != number { minimum = max(minimum, Int64(number.rounded(.up))) }
            } else {
                maximum = min(maximum, Int64((number + offset).rounded(offset == 0 ? .down : .up)))
                if offset != 0, number.rounded(.up) != number { maximum = min(maximum, Int64(number.rounded(.down))) }
            }
        }
        guard minimum <= maximum else {
            throw .unsatisfiable(pointer: pointer, reason: "no integer lies between the lower bound \(minimum) and the upper bound \(maximum)")
        }
        integers.append(IntegerNode(minimum: minimum, maximum: maximum))
        let cost: Int
        if minimum <= 0, maximum >= 0 { cost = 1 } else if minimum > 0 { cost = String(minimum).utf8.count } else { cost = String(maximum).utf8.count }
        return add(.integer(integers.count - 1), cost: cost)
    }

    // MARK: Helpers

    private static func allow(_ keywords: [String: JSONValue], _ known: Set<String>, pointer: String) throws(SchemaConstraintError) {
        for key in keywords.keys.sorted() where !known.contains(key) && !annotations.contains(key) {
            throw .unsupported(
                pointer: pointer + "/" + escapePointer(key),
                reason: "keyword '\(key)' is not supported here (expected one of \(known.sorted().joined(separator: ", ")))"
            )
        }
    }

    private static func count(_ value: JSONValue?, pointer: String) throws(SchemaConstraintError) -> Int? {
        guard let value else { return nil }
        guard case let .number(number) = value, number >= 0, number <= 1_000_000_000, number.rounded() == number else {
            throw .unsupported(pointer: pointer, reason: "expected a non-negative integer")
        }
        return Int(number)
    }

    static func escapePointer(_ key: String) -> String {
        var escaped = ""
        for character in key {
            switch character {
            case "~": escaped += "~0"
            case "/": escaped += "~1"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    private static func describe(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}
