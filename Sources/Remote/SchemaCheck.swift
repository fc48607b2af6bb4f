public import Generation

/// Checks a parsed answer against a JSON Schema, for the keywords that decide an answer's shape: `type`,
/// `properties`, `required`, `additionalProperties`, `items`, `enum`, `const`, `minItems`, `maxItems`,
/// `minLength`, `maxLength`, `minimum`, `maximum`, `anyOf`, `oneOf`. Other keywords (`description`, `title`,
/// `format`, `$ref`, …) are not checked. A server that honours `response_format` already enforces its schema; this
/// is the strict parse that catches servers that ignore it.
public enum SchemaCheck {
    /// The first place where `value` breaks `schema`, as "at PATH: expected …, got …", or `nil` when it fits.
    public static func violation(of schema: JSONValue, by value: JSONValue, at path: String = "$") -> String? {
        guard case .object = schema else { return nil }
        if let types = schema["type"] {
            let allowed: [String] = switch types {
            case let .string(name): [name]
            case let .array(names): names.compactMap { if case let .string(n) = $0 { n } else { nil } }
            default: []
            }
            if !allowed.isEmpty, !allowed.contains(where: { matches(value, type: $0) }) {
                return "at \(path): expected \(allowed.joined(separator: " or ")), got \(describe(value))"
            }
        }
        if case let .array(options)? = schema["enum"], !options.contains(value) {
            return "at \(path): expected one of \(options.compactMap(\.jsonText).joined(separator: ", ")), got \(value.jsonText ?? describe(value))"
        }
        if let constant = schema["const"], constant != value {
            return "at \(path): expected \(constant.jsonText ?? "the constant"), got \(value.jsonText ?? describe(value))"
        }
        switch value {
        case let .object(members):
            if let problem = objectViolation(schema, members, path) { return problem }
        case let .array(items):
            if case let .number(minimum)? = schema["minItems"], Double(items.count) < minimum {
                return "at \(path): expected at least \(Int(minimum)) items, got \(items.count)"
            }
            if case let .number(maximum)? = schema["maxItems"], Double(items.count) > maximum {
                return "at \(path): expected at most \(Int(maximum)) items, got \(items.count)"
            }
            if let itemSchema = schema["items"] {
                for (index, item) in items.enumerated() {
                    if let problem = violation(of: itemSchema, by: item, at: "\(path)[\(index)]") { return problem }
                }
            }
        case let .string(text):
            let length = text.unicodeScalars.count
            if case let .number(minimum)? = schema["minLength"], Double(length) < minimum {
                return "at \(path): expected at least \(Int(minimum)) characters, got \(length)"
            }
            if case let .number(maximum)? = schema["maxLength"], Double(length) > maximum {
                return "at \(path): expected at most \(Int(maximum)) characters, got \(length)"
            }
        case let .number(number):
            if case let .number(minimum)? = schema["minimum"], number < minimum {
                return "at \(path): expected a number ≥ \(minimum), got \(number)"
            }
            if case let .number(maximum)? = schema["maximum"], number > maximum {
                return "at \(path): expected a number ≤ \(maximum), got \(number)"
            }
        case .bool, .null:
            break
        }
        if case let .array(options)? = schema["anyOf"] ?? schema["oneOf"] {
            let problems = options.compactMap { violation(of: $0, by: value, at: path) }
            if problems.count == options.count, let first = problems.first {
                return "\(first) (no alternative of anyOf/oneOf fits)"
            }
        }
        return nil
    }

    private static func objectViolation(_ schema: JSONValue, _ members: [JSONValue.Member], _ path: String) -> String? {
        var seen = Set<String>()
        for member in members where !seen.insert(member.key).inserted {
            return "at \(path): member '\(member.key)' appears twice"
        }
        if case let .array(required)? = schema["required"] {
            for case let .string(name) in required where !seen.contains(name) {
                return "at \(path): expected member '\(name)', which is missing"
            }
        }
        let properties: [JSONValue.Member] = if case let .object(p)? = schema["properties"] { p } else { [] }
        for member in members {
            let childPath = "\(path).\(member.key)"
            if let property = properties.first(where: { $0.key == member.key }) {
                if let problem = violation(of: property.value, by: member.value, at: childPath) { return problem }
            } else if let extra = schema["additionalProperties"] {
                if extra == .bool(false) {
                    let names = properties.map { "'\($0.key)'" }.joined(separator: ", ")
                    return "at \(path): unexpected member '\(member.key)' (allowed: \(names))"
                }
                if let problem = violation(of: extra, by: member.value, at: childPath) { return problem }
            }
        }
        return nil
    }

    private static func matches(_ value: JSONValue, type: String) -> Bool {
        switch (type, value) {
        case ("null", .null), ("boolean", .bool), ("number", .number), ("string", .string), ("array", .array),
             ("object", .object):
            true
        case let ("integer", .number(number)):
            number.rounded() == number
        default:
            false
        }
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
