/// GPT-2's byte-level alphabet: every byte is written as one printable Unicode scalar, so BPE vocabularies and
/// merges (as stored in GGUF `tokenizer.ggml.tokens` / `merges`) are plain strings.
///
/// Bytes 0x21–0x7E, 0xA1–0xAC and 0xAE–0xFF stand for themselves; the other 68 bytes map to U+0100 upwards in
/// ascending byte order (space → "Ġ", newline → "Ċ"). Reference: openai/gpt-2 `encoder.py` `bytes_to_unicode`,
/// REFERENCE.md §4.1.
public enum ByteLevel {
    /// The scalar that stands for each byte.
    public static let scalarForByte: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var next: UInt32 = 256
        for byte in 0..<256 {
            let printable = (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte)
            let value = printable ? UInt32(byte) : { defer { next += 1 }; return next }()
            table[byte] = Unicode.Scalar(value) ?? " "
        }
        return table
    }()

    /// The byte each alphabet scalar stands for (indexed by scalar value, up to U+0143).
    private static let byteForScalarTable: [Int16] = {
        var table = [Int16](repeating: -1, count: 0x144)
        for (byte, scalar) in scalarForByte.enumerated() { table[Int(scalar.value)] = Int16(byte) }
        return table
    }()

    /// The byte `scalar` stands for, or nil when it is not in the alphabet.
    public static func byte(for scalar: Unicode.Scalar) -> UInt8? {
        let value = Int(scalar.value)
        guard value < byteForScalarTable.count, byteForScalarTable[value] >= 0 else { return nil }
        return UInt8(byteForScalarTable[value])
    }

    /// The alphabet spelling of `bytes`.
    public static func encode<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        var scalars = String.UnicodeScalarView()
        for byte in bytes { scalars.append(scalarForByte[Int(byte)]) }
        return String(scalars)
    }

    /// The bytes an alphabet string stands for; nil when it holds a scalar outside the alphabet.
    public static func decode(_ text: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            guard let byte = byte(for: scalar) else { return nil }
            bytes.append(byte)
        }
        return bytes
    }
}
