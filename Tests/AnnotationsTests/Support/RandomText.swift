/// A seeded generator (SplitMix64), so every property test reruns the same cases.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Random text built from the pieces that break output formats.
enum RandomText {
    /// Pieces that each format must escape or carry: separators, line ends, controls, markup, non-ASCII.
    static let awkwardPieces: [String] = [
        "%", "%25", "%0A", ":", "::", ",", "=", ";", "\n", "\r", "\r\n", "\t", "\u{0}", "\u{1}", "\u{1B}", "\u{7F}",
        "\u{85}", "\u{2028}", "\u{2029}", "\u{FEFF}", "\u{FFFE}", "\u{FFFF}", "\"", "'", "\\", "/", "<", ">", "&",
        "]]>", "<!--", "&amp;", "|", "`", "*", "_", "#", "[x](y)", "::error::", "é", "e\u{301}", "Ünïcode", "→", "✓",
        "🐦", "👩‍👩‍👧", "\u{10FFFF}", "日本語", "עברית", "\u{202E}", " ", "  ",
    ]

    /// A random string of up to `maxPieces` pieces, mixing plain ASCII words with awkward pieces.
    static func string(maxPieces: Int = 12, using generator: inout SeededGenerator) -> String {
        let count = Int.random(in: 0...maxPieces, using: &generator)
        var out = ""
        for _ in 0..<count {
            if Bool.random(using: &generator) {
                out += awkwardPieces.randomElement(using: &generator) ?? ""
            } else {
                let length = Int.random(in: 1...8, using: &generator)
                out += String((0..<length).map { _ in "abcxyzXYZ019 -_.".randomElement(using: &generator) ?? "a" })
            }
        }
        return out
    }

    /// A random valid repository-relative path: segments with spaces, non-ASCII and separators of other formats.
    static func path(using generator: inout SeededGenerator) -> String {
        let pieces = ["src", "Sources", "dir with space", "Ünïcode", "日本", "a:b", "c,d", "50%", "x#y", "q?r", "🐦",
                      "file.swift", "e\u{301}", "tab\there", "new\nline", "<x>", "&", "\"q\""]
        let segments = Int.random(in: 1...4, using: &generator)
        return (0..<segments).map { _ in pieces.randomElement(using: &generator) ?? "a" }.joined(separator: "/")
    }
}
