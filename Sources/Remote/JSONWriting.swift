public import Generation

extension JSONValue {
    /// Compact JSON text (RFC 8259) with members in their written order. Non-finite numbers have no JSON spelling,
    /// so they make this return `nil`.
    public var jsonText: String? {
        var out = ""
        return write(into: &out) ? out : nil
    }

    private func write(into out: inout String) -> Bool {
        switch self {
        case .null: out += "null"
        case let .bool(value): out += value ? "true" : "false"
        case let .number(value):
            guard value.isFinite else { return false }
            // Integral values print without a fraction (`3`, not `3.0`) while they are exact in a Double.
            if value.rounded() == value, abs(value) < 9_007_199_254_740_992 {
                out += String(Int64(value))
            } else {
                out += "\(value)"
            }
        case let .string(value): JSONValue.writeString(value, into: &out)
        case let .array(items):
            out += "["
            for (index, item) in items.enumerated() {
                if index > 0 { out += "," }
                guard item.write(into: &out) else { return false }
            }
            out += "]"
        case let .object(members):
            out += "{"
            for (index, member) in members.enumerated() {
                if index > 0 { out += "," }
                JSONValue.writeString(member.key, into: &out)
                out += ":"
                guard member.value.write(into: &out) else { return false }
            }
            out += "}"
        }
        return true
    }

    static func writeString(_ value: String, into out: inout String) {
        out += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}
