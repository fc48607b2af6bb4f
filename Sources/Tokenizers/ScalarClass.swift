/// The character classes the pre-tokenizer patterns use, as a bit set per Unicode scalar: `\p{L}` (letters),
/// `\p{N}` (numbers), `\s` (the White_Space property) and `[\r\n]`. Scalars below U+10000 are looked up in a
/// table built once; the rest ask the standard library.
struct ScalarClass: OptionSet, Sendable {
    let rawValue: UInt8

    static let letter = ScalarClass(rawValue: 1)
    static let number = ScalarClass(rawValue: 2)
    static let whitespace = ScalarClass(rawValue: 4)
    static let lineBreak = ScalarClass(rawValue: 8)

    /// Neither letter, number nor whitespace: `[^\s\p{L}\p{N}]`.
    var isOther: Bool { rawValue & 7 == 0 }

    private static let basicPlane: [UInt8] = (0..<0x10000).map { value in
        guard let scalar = Unicode.Scalar(UInt32(value)) else { return 0 }
        return computed(scalar).rawValue
    }

    static func of(_ scalar: Unicode.Scalar) -> ScalarClass {
        let value = scalar.value
        if value < 0x10000 { return ScalarClass(rawValue: basicPlane[Int(value)]) }
        return computed(scalar)
    }

    private static func computed(_ scalar: Unicode.Scalar) -> ScalarClass {
        var result: ScalarClass = []
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            result.insert(.letter)
        case .decimalNumber, .letterNumber, .otherNumber:
            result.insert(.number)
        default:
            break
        }
        if scalar.properties.isWhitespace { result.insert(.whitespace) }
        if scalar == "\r" || scalar == "\n" { result.insert(.lineBreak) }
        return result
    }
}
