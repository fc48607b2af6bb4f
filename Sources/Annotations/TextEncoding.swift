// Small text conversions shared by the writers: column units, URIs, XML escaping.

enum TextEncoding {
    /// Converts a 1-based column counted in Unicode scalars to one counted in UTF-8 bytes (reviewdog's unit).
    /// Columns past the end of the line (an exclusive end at the line end, say) count one byte per position.
    static func utf8Column(_ scalarColumn: Int, in line: String) -> Int {
        var bytes = 0
        var remaining = scalarColumn - 1
        for scalar in line.unicodeScalars {
            if remaining == 0 { break }
            bytes += UTF8.width(scalar)
            remaining -= 1
        }
        return bytes + remaining + 1
    }

    /// A repository-relative path as a relative URI reference (RFC 3986): every byte outside the unreserved set
    /// and `/` is percent-encoded, so spaces, non-ASCII and a `:` in the first segment stay unambiguous.
    static func uriReference(forPath path: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for byte in path.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"), UInt8(ascii: "/"):
                out.append(byte)
            default:
                out.append(UInt8(ascii: "%"))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0x0f)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether XML 1.0 allows the scalar in a document (its `Char` production).
    static func isXMLCharacter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x9, 0xA, 0xD, 0x20...0xD7FF, 0xE000...0xFFFD, 0x10000...0x10FFFF: true
        default: false
        }
    }

    /// Text as XML 1.0 can carry it: scalars XML forbids (most C0 controls, U+FFFE, U+FFFF) become U+FFFD.
    static func xmlRepresentable(_ text: String) -> String {
        guard !text.unicodeScalars.allSatisfy(isXMLCharacter) else { return text }
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars { scalars.append(isXMLCharacter(scalar) ? scalar : "\u{FFFD}") }
        return String(scalars)
    }

    /// Escapes text for an XML attribute value in double quotes. Tabs and line ends become character
    /// references, which attribute-value normalisation keeps (literal ones would turn into spaces).
    static func xmlAttribute(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in xmlRepresentable(text).unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "\t": out += "&#9;"
            case "\n": out += "&#10;"
            case "\r": out += "&#13;"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Escapes text for XML character data. `\r` becomes a reference, since parsers turn a literal one into `\n`.
    static func xmlText(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in xmlRepresentable(text).unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\r": out += "&#13;"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
