import Generation

/// Random schemas from Sparrow's subset (every keyword the compiler supports, nested), for property tests.
struct RandomSchemas {
    var generator: SeededGenerator

    static let keys = ["file", "line", "severity", "message", "a", "ab", "a b", "kind", "ключ", "q\"uote", "back\\slash", "x/y", "日本"]
    static let words = ["error", "warning", "note", "", "é", "日本語", "a\"b", "line\nbreak", "tab\t", "\\", "😀", "ab", "abc"]
    /// ECMA-262 patterns that mean the same in Python `re` and ICU.
    static let patterns = [
        "^[a-z]+$", "^[A-Z][a-z]*(-[a-z]+)*$", "^\\d{1,3}(\\.\\d{1,3}){3}$", "^(foo|bar|baz)+$", "^[a-f0-9]{8}$", "[0-9]",
        "^[^\"\\\\]{0,10}$", "^(?:ab|cd)?x*$", "^é+ü?$", "^.{2,5}$", "^\\w+\\s\\w+$", "^\\S+$", "ab", "^$", "^[\\u0041-\\u0043]+$",
        "^(\\+|-)?[1-9][0-9]*$", "^[^a-z]*$",
    ]
    static let texts = [
        "func parseRange(_ text: String) -> Range<Int>? {\n\tguard !text.isEmpty else { return nil }\n\t// \"quoted\" and back\\slash é 日本 😀\n}\n",
        "let a = 1\nlet b = a + 2\n",
        "x",
        "{\"json\": [1, 2, 3], \"key\": \"value\"}",
    ]

    init(seed: UInt64) { generator = SeededGenerator(seed: seed) }

    mutating func chance(_ probability: Double) -> Bool { Double.random(in: 0..<1, using: &generator) < probability }
    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &generator) }
    mutating func pick<T>(_ items: [T]) -> T { items[int(0...(items.count - 1))] }

    /// A root schema: mostly objects, as answers are.
    mutating func schema() -> JSONValue {
        switch int(0...9) {
        case 0: return value(depth: 1)
        case 1: return oneOf(depth: 1)
        default: return object(depth: 1)
        }
    }

    mutating func value(depth: Int) -> JSONValue {
        let roll = depth >= 4 ? int(0...5) : int(0...8)
        switch roll {
        case 0, 1: return string()
        case 2: return integer()
        case 3: return .object([.init("type", .string("boolean"))])
        case 4: return literals()
        case 5: return chance(0.5) ? .object([.init("type", .string("null"))]) : string()
        case 6: return array(depth: depth + 1)
        case 7: return object(depth: depth + 1)
        default: return oneOf(depth: depth + 1)
        }
    }

    mutating func object(depth: Int) -> JSONValue {
        var keys = Self.keys
        var properties: [JSONValue.Member] = []
        var required: [JSONValue] = []
        for _ in 0..<int(0...4) {
            let key = keys.remove(at: int(0...(keys.count - 1)))
            properties.append(.init(key, value(depth: depth)))
            if chance(0.6) { required.append(.string(key)) }
        }
        var members: [JSONValue.Member] = [.init("type", .string("object")), .init("properties", .object(properties))]
        if !required.isEmpty { members.append(.init("required", .array(required))) }
        if chance(0.7) { members.append(.init("additionalProperties", .bool(false))) }
        if chance(0.2) { members.append(.init("description", .string("ignored"))) }
        return .object(members)
    }

    /// Branches with distinct first keys, each required in its own branch only.
    mutating func oneOf(depth: Int) -> JSONValue {
        var branches: [JSONValue] = []
        let firsts = ["finding", "edit", "note", "skip"].shuffled(using: &generator)
        for index in 0..<int(2...3) {
            var properties: [JSONValue.Member] = [.init(firsts[index], value(depth: depth + 1))]
            var required: [JSONValue] = [.string(firsts[index])]
            for key in ["path", "text"] where chance(0.5) {
                properties.append(.init(key, string()))
                if chance(0.5) { required.append(.string(key)) }
            }
            branches.append(.object([
                .init("type", .string("object")), .init("properties", .object(properties)), .init("required", .array(required)),
                .init("additionalProperties", .bool(false)),
            ]))
        }
        return .object([.init("oneOf", .array(branches))])
    }

    mutating func array(depth: Int) -> JSONValue {
        var members: [JSONValue.Member] = [.init("type", .string("array")), .init("items", value(depth: depth))]
        let minimum = chance(0.4) ? int(0...2) : 0
        if minimum > 0 { members.append(.init("minItems", .number(Double(minimum)))) }
        if chance(0.6) { members.append(.init("maxItems", .number(Double(minimum + int(0...4))))) }
        return .object(members)
    }

    mutating func string() -> JSONValue {
        var members: [JSONValue.Member] = [.init("type", .string("string"))]
        switch int(0...6) {
        case 0:
            break
        case 1:
            let minimum = int(0...3)
            if chance(0.5) { members.append(.init("minLength", .number(Double(minimum)))) }
            members.append(.init("maxLength", .number(Double(minimum + int(0...20)))))
        case 2:
            members.append(.init("pattern", .string(pick(Self.patterns))))
            if chance(0.3) { members.append(.init("maxLength", .number(Double(int(12...30))))) }
        case 3:
            members.append(.init("x-sparrow-substring-of", .string(pick(Self.texts))))
            if chance(0.7) { members.append(.init("minLength", .number(1))) }
            if chance(0.3) { members.append(.init("maxLength", .number(Double(int(1...40))))) }
        case 4:
            members.append(.init("minLength", .number(Double(int(0...5)))))
        case 5:
            members.append(.init("x-sparrow-unique-substring-of", .string(pick(Self.texts))))
            if chance(0.5) { members.append(.init("minLength", .number(1))) }
        default:
            return literals()
        }
        return .object(members)
    }

    mutating func integer() -> JSONValue {
        var members: [JSONValue.Member] = [.init("type", .string("integer"))]
        let low = pick([-1_000_000, -100, -7, -1, 0, 1, 9, 10, 99, 12_345])
        switch int(0...4) {
        case 0: break
        case 1: members.append(.init("minimum", .number(Double(low))))
        case 2: members.append(.init("maximum", .number(Double(low))))
        case 3:
            members.append(.init("minimum", .number(Double(low))))
            members.append(.init("maximum", .number(Double(low + pick([0, 1, 9, 90, 1000, 99_999])))))
        default:
            members.append(.init("exclusiveMinimum", .number(Double(low))))
            members.append(.init("exclusiveMaximum", .number(Double(low + pick([2, 11, 1001])))))
        }
        return .object(members)
    }

    mutating func literals() -> JSONValue {
        if chance(0.2) { return .object([.init("const", pick([.string(pick(Self.words)), .bool(true), .null]))]) }
        var values: [JSONValue] = []
        for _ in 0..<int(1...4) {
            let value: JSONValue = chance(0.85) ? .string(pick(Self.words)) : pick([.bool(true), .bool(false), .null])
            if !values.contains(value) { values.append(value) }
        }
        return .object([.init("enum", .array(values))])
    }
}
