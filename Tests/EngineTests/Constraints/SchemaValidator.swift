import Foundation
import Generation

/// A parsed JSON document from Foundation's `JSONDecoder` (which, unlike `JSONSerialization`, keeps booleans and
/// numbers apart), the first of two independent readers of constrained answers.
indirect enum ParsedJSON: Decodable, Equatable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([ParsedJSON])
    case object([String: ParsedJSON])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([ParsedJSON].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: ParsedJSON].self))
        }
    }

    static func parse(_ bytes: [UInt8]) throws -> ParsedJSON {
        try JSONDecoder().decode(ParsedJSON.self, from: Data(bytes))
    }
}

/// Checks a parsed answer against a schema of Sparrow's subset, written from the JSON Schema 2020-12 text (not from
/// the compiler): returns the first violation, or nil. Patterns are checked with `NSRegularExpression` (search
/// semantics, as JSON Schema says), substrings by byte search.
enum IndependentValidator {
    static func violation(_ value: ParsedJSON, _ schema: JSONValue, path: String = "$") -> String? {
        if let branches = schema["oneOf"], case let .array(list) = branches {
            let matching = list.filter { violation(value, $0, path: path) == nil }.count
            return matching == 1 ? nil : "\(path): matches \(matching) oneOf branches, expected exactly 1"
        }
        if let options = schema["enum"], case let .array(list) = options {
            return list.contains(where: { equal(value, $0) }) ? nil : "\(path): not one of the enum values"
        }
        if let constant = schema["const"] {
            return equal(value, constant) ? nil : "\(path): not the const value"
        }
        guard case let .string(type)? = schema["type"] else { return "\(path): schema without type" }
        switch (type, value) {
        case ("null", .null), ("boolean", .bool):
            return nil
        case let ("integer", .integer(number)):
            if case let .number(minimum)? = schema["minimum"], Double(number) < minimum { return "\(path): \(number) < minimum" }
            if case let .number(maximum)? = schema["maximum"], Double(number) > maximum { return "\(path): \(number) > maximum" }
            if case let .number(bound)? = schema["exclusiveMinimum"], Double(number) <= bound { return "\(path): \(number) <= exclusiveMinimum" }
            if case let .number(bound)? = schema["exclusiveMaximum"], Double(number) >= bound { return "\(path): \(number) >= exclusiveMaximum" }
            return nil
        case let ("string", .string(text)):
            let length = text.unicodeScalars.count
            if case let .number(minimum)? = schema["minLength"], Double(length) < minimum { return "\(path): length \(length) < minLength" }
            if case let .number(maximum)? = schema["maxLength"], Double(length) > maximum { return "\(path): length \(length) > maxLength" }
            if case let .string(pattern)? = schema["pattern"] {
                guard let regex = try? NSRegularExpression(pattern: pattern) else { return "\(path): NSRegularExpression rejects the pattern" }
                let range = NSRange(text.startIndex..<text.endIndex, in: text)
                if regex.firstMatch(in: text, range: range) == nil { return "\(path): \(text.debugDescription) does not match \(pattern)" }
            }
            if case let .string(source)? = schema["x-sparrow-substring-of"], !contains(Array(source.utf8), Array(text.utf8)) {
                return "\(path): \(text.debugDescription) is not a substring of the text"
            }
            if case let .string(source)? = schema["x-sparrow-unique-substring-of"] {
                let found = occurrences(Array(source.utf8), Array(text.utf8))
                if text.isEmpty || found != 1 { return "\(path): \(text.debugDescription) occurs \(found) times in the text (expected once)" }
            }
            return nil
        case let ("array", .array(items)):
            if case let .number(minimum)? = schema["minItems"], Double(items.count) < minimum { return "\(path): fewer than minItems" }
            if case let .number(maximum)? = schema["maxItems"], Double(items.count) > maximum { return "\(path): more than maxItems" }
            guard let itemSchema = schema["items"] else { return nil }
            for (index, item) in items.enumerated() {
                if let problem = violation(item, itemSchema, path: "\(path)[\(index)]") { return problem }
            }
            return nil
        case let ("object", .object(members)):
            var properties: [JSONValue.Member] = []
            if case let .object(list)? = schema["properties"] { properties = list }
            if case let .array(names)? = schema["required"] {
                for case let .string(name) in names where members[name] == nil { return "\(path): required '\(name)' missing" }
            }
            for (key, member) in members {
                guard let property = properties.first(where: { $0.key == key }) else {
                    if schema["additionalProperties"] == .bool(false) { return "\(path): unexpected member '\(key)'" }
                    continue
                }
                if let problem = violation(member, property.value, path: "\(path).\(key)") { return problem }
            }
            return nil
        default:
            return "\(path): expected \(type), found \(value)"
        }
    }

    private static func equal(_ value: ParsedJSON, _ schemaValue: JSONValue) -> Bool {
        switch (value, schemaValue) {
        case (.null, .null): true
        case let (.bool(a), .bool(b)): a == b
        case let (.string(a), .string(b)): Array(a.unicodeScalars) == Array(b.unicodeScalars)
        case let (.integer(a), .number(b)): Double(a) == b
        default: false
        }
    }

    /// Occurrences of `needle` in `haystack`, overlapping ones included (naive search).
    static func occurrences(_ haystack: [UInt8], _ needle: [UInt8]) -> Int {
        guard !needle.isEmpty, needle.count <= haystack.count else { return needle.isEmpty ? haystack.count + 1 : 0 }
        return (0...(haystack.count - needle.count)).filter { haystack[$0..<($0 + needle.count)].elementsEqual(needle) }.count
    }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        if needle.isEmpty { return true }
        guard needle.count <= haystack.count else { return false }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if haystack[start..<(start + needle.count)].elementsEqual(needle) { return true }
        }
        return false
    }
}

/// JSON text of a schema value, members in order (for the Python reference validator).
func jsonText(_ value: JSONValue) -> String {
    switch value {
    case .null: return "null"
    case let .bool(flag): return flag ? "true" : "false"
    case let .number(number):
        return number.rounded() == number && abs(number) < 1e15 ? String(Int64(number)) : String(number)
    case let .string(text):
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    case let .array(items): return "[" + items.map(jsonText).joined(separator: ",") + "]"
    case let .object(members): return "{" + members.map { jsonText(.string($0.key)) + ":" + jsonText($0.value) }.joined(separator: ",") + "}"
    }
}
