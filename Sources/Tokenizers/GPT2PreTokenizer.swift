/// GPT-2's pre-tokenizer pattern, as llama.cpp applies it (`unicode_regex_split_custom_gpt2`):
///
///     's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
///
/// Contractions are case-sensitive here.
public struct GPT2PreTokenizer: PreTokenizer {
    public init() {}

    public func split(_ scalars: [Unicode.Scalar]) -> [Range<Int>] {
        split(scalars, classes: scalars.map(ScalarClass.of), in: 0..<scalars.count)
    }

    /// Splits `bounds` of `scalars` as if it were the whole text (lookahead stops at its end).
    func split(_ scalars: [Unicode.Scalar], classes: [ScalarClass], in bounds: Range<Int>) -> [Range<Int>] {
        var pieces: [Range<Int>] = []
        var start = bounds.lowerBound
        while start < bounds.upperBound {
            let end = pieceEnd(scalars, classes, at: start, end: bounds.upperBound)
            pieces.append(start..<end)
            start = end
        }
        return pieces
    }

    private func pieceEnd(_ scalars: [Unicode.Scalar], _ classes: [ScalarClass], at i: Int, end n: Int) -> Int {
        if scalars[i] == "'", i + 1 < n {
            let a = scalars[i + 1]
            if a == "s" || a == "t" || a == "m" || a == "d" { return i + 2 }
            if i + 2 < n {
                let b = scalars[i + 2]
                if (a == "r" && b == "e") || (a == "v" && b == "e") || (a == "l" && b == "l") { return i + 3 }
            }
        }
        let bodyStart = scalars[i] == " " && i + 1 < n ? i + 1 : i
        let body = classes[bodyStart]
        // ' '?\p{L}+ , ' '?\p{N}+ , ' '?[^\s\p{L}\p{N}]+
        if body.contains(.letter) { return runEnd(classes, from: bodyStart + 1, end: n) { $0.contains(.letter) } }
        if body.contains(.number) { return runEnd(classes, from: bodyStart + 1, end: n) { $0.contains(.number) } }
        if body.isOther { return runEnd(classes, from: bodyStart + 1, end: n) { $0.isOther } }
        // Whitespace: \s+(?!\S) then \s+.
        let spaceEnd = runEnd(classes, from: i + 1, end: n) { $0.contains(.whitespace) }
        if spaceEnd == n || spaceEnd - i == 1 { return spaceEnd }
        return spaceEnd - 1
    }
}

/// Splits out every `\p{N}` scalar as its own piece, then hands the text between them to `inner` (llama.cpp's
/// regex list `{"\\p{N}", GPT-2's pattern}` for SmolLM and StarCoder).
public struct DigitSplittingPreTokenizer: PreTokenizer {
    public var inner: GPT2PreTokenizer

    public init(inner: GPT2PreTokenizer) {
        self.inner = inner
    }

    public func split(_ scalars: [Unicode.Scalar]) -> [Range<Int>] {
        let classes = scalars.map(ScalarClass.of)
        var pieces: [Range<Int>] = []
        var start = 0
        var index = 0
        while index < scalars.count {
            if classes[index].contains(.number) {
                pieces += inner.split(scalars, classes: classes, in: start..<index)
                pieces.append(index..<index + 1)
                start = index + 1
            }
            index += 1
        }
        pieces += inner.split(scalars, classes: classes, in: start..<scalars.count)
        return pieces
    }
}
