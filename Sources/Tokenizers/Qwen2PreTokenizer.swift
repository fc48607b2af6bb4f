/// Qwen2's pre-tokenizer, the pattern of Qwen2/Qwen3's `tokenizer.json` (and llama.cpp's
/// `LLAMA_VOCAB_PRE_TYPE_QWEN2`), as a hand-written scanner:
///
///     (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
///
/// At each position the alternatives are tried in order and the first that matches wins (with the regex's
/// backtracking worked out per alternative below). Digits are split one by one.
public struct Qwen2PreTokenizer: PreTokenizer {
    public init() {}

    public func split(_ scalars: [Unicode.Scalar]) -> [Range<Int>] {
        let classes = scalars.map(ScalarClass.of)
        var pieces: [Range<Int>] = []
        pieces.reserveCapacity(scalars.count / 3)
        var start = 0
        while start < scalars.count {
            let end = pieceEnd(scalars, classes, at: start)
            pieces.append(start..<end)
            start = end
        }
        return pieces
    }

    private func pieceEnd(_ scalars: [Unicode.Scalar], _ classes: [ScalarClass], at i: Int) -> Int {
        let n = scalars.count
        let here = classes[i]
        // (?i:'s|'t|'re|'ve|'m|'ll|'d): case-insensitive as Unicode folds it (ſ folds to s).
        if scalars[i] == "'", i + 1 < n {
            let a = Self.folded(scalars[i + 1])
            if a == "s" || a == "t" || a == "m" || a == "d" { return i + 2 }
            if i + 2 < n {
                let b = Self.folded(scalars[i + 2])
                if (a == "r" && b == "e") || (a == "v" && b == "e") || (a == "l" && b == "l") { return i + 3 }
            }
        }
        // [^\r\n\p{L}\p{N}]?\p{L}+
        if here.contains(.letter) {
            return runEnd(classes, from: i + 1, end: n) { $0.contains(.letter) }
        }
        if !here.contains(.lineBreak), !here.contains(.number), i + 1 < n, classes[i + 1].contains(.letter) {
            return runEnd(classes, from: i + 2, end: n) { $0.contains(.letter) }
        }
        // \p{N}
        if here.contains(.number) { return i + 1 }
        // ' '?[^\s\p{L}\p{N}]+[\r\n]*
        let symbolStart = scalars[i] == " " && i + 1 < n && classes[i + 1].isOther ? i + 1 : i
        if classes[symbolStart].isOther {
            let symbolsEnd = runEnd(classes, from: symbolStart + 1, end: n) { $0.isOther }
            return runEnd(classes, from: symbolsEnd, end: n) { $0.contains(.lineBreak) }
        }
        // Here the scalar is whitespace.
        let spaceEnd = runEnd(classes, from: i + 1, end: n) { $0.contains(.whitespace) }
        // \s*[\r\n]+ : \s* backs off to the last line break of the run, which [\r\n]+ then takes.
        var lastBreak = spaceEnd - 1
        while lastBreak >= i, !classes[lastBreak].contains(.lineBreak) { lastBreak -= 1 }
        if lastBreak >= i { return lastBreak + 1 }
        // \s+(?!\S) : the whole run at the end of the text, else all but its last scalar.
        if spaceEnd == n { return n }
        if spaceEnd - i >= 2 { return spaceEnd - 1 }
        // \s+
        return spaceEnd
    }

    @inline(__always)
    private static func folded(_ scalar: Unicode.Scalar) -> Unicode.Scalar {
        switch scalar {
        case "A"..."Z": Unicode.Scalar(scalar.value + 32) ?? scalar
        case "\u{17F}": "s"
        default: scalar
        }
    }
}
