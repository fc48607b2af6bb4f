/// What a scalar means under YAML 1.2's core schema (so `yes` and `no` are text, not booleans).
enum ScalarValue: Equatable {
    case null
    case bool(Bool)
    case integer(Int)
    case number(Double)
    case string(String)

    private static let strTag = "tag:yaml.org,2002:str"

    /// Resolves `scalar`; quoted and block scalars, and `!!str`, are always strings.
    init(_ scalar: YAMLNode.Scalar) {
        if scalar.style != .plain || scalar.tag == Self.strTag {
            self = .string(scalar.text)
            return
        }
        let text = scalar.text
        if scalar.isNull {
            self = .null
        } else if ["true", "True", "TRUE"].contains(text) {
            self = .bool(true)
        } else if ["false", "False", "FALSE"].contains(text) {
            self = .bool(false)
        } else if let integer = Self.integer(text) {
            self = .integer(integer)
        } else if let number = Self.number(text) {
            self = .number(number)
        } else {
            self = .string(text)
        }
    }

    private static func integer(_ text: String) -> Int? {
        var digits = Substring(text)
        var negative = false
        if let sign = digits.first, sign == "+" || sign == "-" {
            negative = sign == "-"
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty else { return nil }
        var radix = 10
        if digits.hasPrefix("0x") {
            radix = 16
            digits = digits.dropFirst(2)
        } else if digits.hasPrefix("0o") {
            radix = 8
            digits = digits.dropFirst(2)
        }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isHexDigit }),
              let magnitude = Int(digits, radix: radix)
        else { return nil }
        return negative ? -magnitude : magnitude
    }

    private static func number(_ text: String) -> Double? {
        switch text {
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .infinity
        case "-.inf", "-.Inf", "-.INF": return -.infinity
        case ".nan", ".NaN", ".NAN": return .nan
        default: break
        }
        let allowed = Set("0123456789+-.eE")
        guard text.contains(where: \.isNumber), text.allSatisfy({ allowed.contains($0) }) else { return nil }
        return Double(text)
    }

    /// How the value reads in a message: `the string "abc"`, `the integer 12`, `null (an empty value)`.
    var phrase: String {
        switch self {
        case .null: "null (an empty value)"
        case let .bool(value): "the boolean \(value)"
        case .integer, .number: "the number \(text ?? "")"
        case let .string(value): "the string \(Self.quote(value))"
        }
    }

    /// The text of a non-null value (for fields that take text, `1234` is the text "1234").
    var text: String? {
        switch self {
        case .null: nil
        case let .bool(value): String(value)
        case let .integer(value): String(value)
        case let .number(value): value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
        case let .string(value): value
        }
    }

    /// `"text"`, cut to 40 characters with the control characters escaped.
    static func quote(_ text: String) -> String {
        var shown = ""
        for scalar in text.unicodeScalars.prefix(40) {
            switch scalar {
            case "\n": shown += "\\n"
            case "\t": shown += "\\t"
            case "\"": shown += "\\\""
            default:
                shown += scalar.value < 0x20 || scalar.value == 0x7F
                    ? "\\u{\(String(scalar.value, radix: 16))}" : String(scalar)
            }
        }
        return "\"\(shown)\(text.unicodeScalars.count > 40 ? "…" : "")\""
    }
}
