/// How the constraint spells JSON string content, and which characters a constrained string may contain.
enum JSONStringEncoding {
    /// The canonical JSON spelling of `text` between the quotes: `"` and `\` and the five control characters with
    /// a short escape are escaped, other control characters as `\u00XX`, everything else as raw UTF-8.
    static func content(_ text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        for byte in text.utf8 {
            switch byte {
            case 0x22: bytes += [0x5C, 0x22]
            case 0x5C: bytes += [0x5C, 0x5C]
            case 0x08: bytes += [0x5C, UInt8(ascii: "b")]
            case 0x0C: bytes += [0x5C, UInt8(ascii: "f")]
            case 0x0A: bytes += [0x5C, UInt8(ascii: "n")]
            case 0x0D: bytes += [0x5C, UInt8(ascii: "r")]
            case 0x09: bytes += [0x5C, UInt8(ascii: "t")]
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes += [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            default: bytes.append(byte)
            }
        }
        return bytes
    }

    /// The character a short escape stands for (`n` → newline), or nil for a byte that is not one. `\uXXXX` is not
    /// generated: every character has a shorter spelling, except controls without a short escape, which constrained
    /// strings cannot contain.
    @inline(__always)
    static func unescaped(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x22: 0x22
        case 0x5C: 0x5C
        case 0x2F: 0x2F
        case UInt8(ascii: "b"): 0x08
        case UInt8(ascii: "f"): 0x0C
        case UInt8(ascii: "n"): 0x0A
        case UInt8(ascii: "r"): 0x0D
        case UInt8(ascii: "t"): 0x09
        default: nil
        }
    }

    /// The escape letters, in the order the matcher tries them.
    static let escapeLetters: [UInt8] = Array("\"\\/bfnrt".utf8)

    /// Bytes a constrained string needs for the scalar `value`: 1 for printable ASCII, 2 for `"`, `\` and the
    /// controls with a short escape, the UTF-8 length above ASCII, nil when it cannot be written.
    static func encodedLength(ofScalar value: UInt32) -> Int? {
        switch value {
        case 0x22, 0x5C, 0x08, 0x09, 0x0A, 0x0C, 0x0D: 2
        case 0..<0x20: nil
        case 0x20..<0x80: 1
        case 0x80..<0x800: 2
        case 0xD800...0xDFFF: nil
        case 0x800..<0x10000: 3
        case 0x10000...0x10FFFF: 4
        default: nil
        }
    }
}
