/// Why a `pattern` is outside the supported subset.
struct PatternError: Error, CustomStringConvertible {
    let description: String
}

/// A JSON Schema `pattern` (ECMA-262 syntax, the subset below) compiled to a DFA over Unicode scalars.
///
/// Subset: literals, `.`, classes `[a-z_]` / `[^…]`, `\d \w \s \D \W \S`, escaped punctuation, `\n \t \r \f \v \uXXXX`,
/// groups `(…)` / `(?:…)`, `|`, and the quantifiers `* + ? {n} {n,} {n,m}` (lazy forms accepted; they match the
/// same strings). `^` and `$` only at the ends; as JSON Schema says, a pattern without them matches anywhere.
/// Only scalars a constrained string can spell take part (printable text, plus `\b \f \n \r \t`). Where regex
/// engines disagree (`.` and line terminators, Unicode in `\d \w \s`), the narrower reading is used, so every
/// answer matches in ECMA-262, Python `re` and ICU alike.
///
/// The DFA keeps only live states (ones that can still reach a match) and, for each, the cheapest way to finish:
/// fewest encoded bytes, then fewest scalars, which the budget logic relies on.
final class PatternAutomaton: Sendable {
    /// `rangeStart[s]..<rangeStart[s + 1]`: transitions of state `s`, sorted, disjoint scalar ranges.
    private let rangeStart: [Int32]
    private let rangeLow: [UInt32]
    private let rangeHigh: [UInt32]
    private let rangeTarget: [Int32]
    let accepting: [Bool]
    /// Fewest encoded bytes from each state to a match (lexicographic with `distanceChars`).
    let distanceBytes: [Int]
    /// Scalars on that cheapest way.
    let distanceChars: [Int]
    /// The largest finite `distanceChars` (how far a length limit can reach back).
    let maximumDistanceChars: Int

    static let maximumStates = 4096
    static let maximumRepeat = 256

    init(pattern: String) throws(PatternError) {
        var parser = PatternParser(Array(pattern.unicodeScalars))
        let tree = try parser.parse()
        var nfa = ThompsonNFA()
        let (start, end) = try nfa.build(tree)
        nfa.accept = end
        let dfa = try SubsetConstruction(nfa: nfa, start: start)
        // Distances to a match on the reversed graph (Dijkstra on (bytes, chars)).
        let count = dfa.transitions.count
        var bytes = [Int](repeating: Int.max, count: count)
        var chars = [Int](repeating: Int.max, count: count)
        var reverse = [[(source: Int, weight: Int)]](repeating: [], count: count)
        for (source, list) in dfa.transitions.enumerated() {
            for edge in list {
                if let weight = Self.cheapestLength(edge.low, edge.high) { reverse[edge.target].append((source, weight)) }
            }
        }
        var done = [Bool](repeating: false, count: count)
        for state in 0..<count where dfa.accepting[state] {
            bytes[state] = 0
            chars[state] = 0
        }
        while true {
            var best = -1
            for state in 0..<count where !done[state] && bytes[state] != Int.max {
                if best < 0 || (bytes[state], chars[state]) < (bytes[best], chars[best]) { best = state }
            }
            guard best >= 0 else { break }
            done[best] = true
            for (source, weight) in reverse[best] where !done[source] {
                let candidate = (bytes[best] + weight, chars[best] + 1)
                if candidate < (bytes[source], chars[source]) { (bytes[source], chars[source]) = candidate }
            }
        }
        guard bytes[0] != Int.max else { throw PatternError(description: "the pattern matches no string a JSON answer can spell") }
        var starts: [Int32] = [0]
        var lows: [UInt32] = []
        var highs: [UInt32] = []
        var targets: [Int32] = []
        for list in dfa.transitions {
            for edge in list where bytes[edge.target] != Int.max && Self.cheapestLength(edge.low, edge.high) != nil {
                lows.append(edge.low)
                highs.append(edge.high)
                targets.append(Int32(edge.target))
            }
            starts.append(Int32(lows.count))
        }
        rangeStart = starts
        rangeLow = lows
        rangeHigh = highs
        rangeTarget = targets
        accepting = dfa.accepting
        distanceBytes = bytes
        distanceChars = chars
        maximumDistanceChars = chars.filter { $0 != Int.max }.max() ?? 0
    }

    /// The state after `scalar`, or -1 (no match can follow).
    @inline(__always)
    func next(_ state: Int32, scalar: UInt32) -> Int32 {
        for index in Int(rangeStart[Int(state)])..<Int(rangeStart[Int(state) + 1]) where rangeLow[index] <= scalar {
            if scalar <= rangeHigh[index] { return rangeTarget[index] }
        }
        return -1
    }

    /// The fewest bytes to a match through any scalar in `low...high` (counting that scalar's remaining bytes
    /// separately), among transitions whose target can still finish within `maxChars` more scalars; nil if none.
    @inline(__always)
    func cheapestThrough(_ state: Int32, low: UInt32, high: UInt32, maxChars: Int) -> Int? {
        var best: Int?
        for index in Int(rangeStart[Int(state)])..<Int(rangeStart[Int(state) + 1])
            where rangeLow[index] <= high && low <= rangeHigh[index] {
            let target = Int(rangeTarget[index])
            if distanceChars[target] <= maxChars { best = min(best ?? Int.max, distanceBytes[target]) }
        }
        return best
    }

    /// The transitions of `state` as (first scalar, last scalar, target).
    func transitions(of state: Int32) -> [(low: UInt32, high: UInt32, target: Int32)] {
        (Int(rangeStart[Int(state)])..<Int(rangeStart[Int(state) + 1])).map { (rangeLow[$0], rangeHigh[$0], rangeTarget[$0]) }
    }

    /// Bytes of the cheapest scalar in `low...high` a constrained string can spell, nil if none.
    static func cheapestLength(_ low: UInt32, _ high: UInt32) -> Int? {
        let bands: [(UInt32, UInt32, Int)] = [
            (0x20, 0x21, 1), (0x23, 0x5B, 1), (0x5D, 0x7F, 1), (0x08, 0x0A, 2), (0x0C, 0x0D, 2), (0x22, 0x22, 2),
            (0x5C, 0x5C, 2), (0x80, 0x7FF, 2), (0x800, 0xD7FF, 3), (0xE000, 0xFFFF, 3), (0x10000, 0x10FFFF, 4),
        ]
        var best: Int?
        for (bandLow, bandHigh, cost) in bands where bandLow <= high && low <= bandHigh { best = min(best ?? cost, cost) }
        return best
    }
}

/// A parsed pattern.
indirect enum PatternNode {
    /// One scalar from a set of disjoint ranges.
    case set([ClosedRange<UInt32>])
    case sequence([PatternNode])
    case choice([PatternNode])
    case repetition(PatternNode, min: Int, max: Int?)
}

/// Recursive-descent parser of the pattern subset.
struct PatternParser {
    private let scalars: [Unicode.Scalar]
    private var position = 0
    static let anyScalar: [ClosedRange<UInt32>] = [0...0xD7FF, 0xE000...0x10FFFF]

    init(_ scalars: [Unicode.Scalar]) { self.scalars = scalars }

    mutating func parse() throws(PatternError) -> PatternNode {
        var anchoredStart = false
        var end = scalars.count
        if scalars.first == "^" {
            anchoredStart = true
            position = 1
        }
        var anchoredEnd = false
        if end > position, scalars[end - 1] == "$", end < 2 || scalars[end - 2] != "\\" {
            anchoredEnd = true
            end -= 1
        }
        let body = try parseChoice(end: end)
        guard position == end else { throw PatternError(description: "unexpected '\(scalars[position])' at offset \(position)") }
        var parts: [PatternNode] = []
        if !anchoredStart { parts.append(.repetition(.set(Self.anyScalar), min: 0, max: nil)) }
        parts.append(body)
        if !anchoredEnd { parts.append(.repetition(.set(Self.anyScalar), min: 0, max: nil)) }
        return .sequence(parts)
    }

    private mutating func parseChoice(end: Int) throws(PatternError) -> PatternNode {
        var options = [try parseSequence(end: end)]
        while position < end, scalars[position] == "|" {
            position += 1
            options.append(try parseSequence(end: end))
        }
        return options.count == 1 ? options[0] : .choice(options)
    }

    private mutating func parseSequence(end: Int) throws(PatternError) -> PatternNode {
        var items: [PatternNode] = []
        while position < end, scalars[position] != "|", scalars[position] != ")" {
            let atom = try parseAtom(end: end)
            items.append(try parseQuantifier(atom, end: end))
        }
        return .sequence(items)
    }

    private mutating func parseAtom(end: Int) throws(PatternError) -> PatternNode {
        let scalar = scalars[position]
        position += 1
        switch scalar {
        case "(":
            if position + 1 < end, scalars[position] == "?" {
                guard scalars[position + 1] == ":" else {
                    throw PatternError(description: "only (?:…) groups are supported (offset \(position - 1))")
                }
                position += 2
            }
            let inner = try parseChoice(end: end)
            guard position < end, scalars[position] == ")" else { throw PatternError(description: "unclosed '(' in the pattern") }
            position += 1
            return inner
        case "[": return .set(try parseClass(end: end))
        case ".": return .set(Self.subtract(Self.anyScalar, [0x0A...0x0D, 0x85...0x85, 0x2028...0x2029]))
        case "\\": return .set(try parseEscape(end: end, inClass: false))
        case "*", "+", "?", "{", "}", "]", "^", "$":
            throw PatternError(description: "'\(scalar)' at offset \(position - 1) is not supported here (escape it with a backslash)")
        default: return .set([scalar.value...scalar.value])
        }
    }

    private mutating func parseQuantifier(_ atom: PatternNode, end: Int) throws(PatternError) -> PatternNode {
        guard position < end else { return atom }
        var node: PatternNode
        switch scalars[position] {
        case "*": node = .repetition(atom, min: 0, max: nil); position += 1
        case "+": node = .repetition(atom, min: 1, max: nil); position += 1
        case "?": node = .repetition(atom, min: 0, max: 1); position += 1
        case "{":
            position += 1
            let low = try parseNumber(end: end)
            var high: Int? = low
            if position < end, scalars[position] == "," {
                position += 1
                high = position < end && scalars[position] == "}" ? nil : try parseNumber(end: end)
            }
            guard position < end, scalars[position] == "}" else { throw PatternError(description: "expected '}' to close a {n,m} quantifier") }
            position += 1
            if let high, high < low { throw PatternError(description: "quantifier {\(low),\(high)} has its bounds reversed") }
            node = .repetition(atom, min: low, max: high)
        default: return atom
        }
        if position < end, scalars[position] == "?" { position += 1 }
        return node
    }

    private mutating func parseNumber(end: Int) throws(PatternError) -> Int {
        var value = 0
        let start = position
        while position < end, (0x30...0x39).contains(scalars[position].value) {
            value = value * 10 + Int(scalars[position].value - 0x30)
            position += 1
            guard value <= PatternAutomaton.maximumRepeat else {
                throw PatternError(description: "repetition counts above \(PatternAutomaton.maximumRepeat) are not supported")
            }
        }
        guard position > start else { throw PatternError(description: "expected a number in a {n,m} quantifier") }
        return value
    }

    private mutating func parseClass(end: Int) throws(PatternError) -> [ClosedRange<UInt32>] {
        var negated = false
        if position < end, scalars[position] == "^" {
            negated = true
            position += 1
        }
        var ranges: [ClosedRange<UInt32>] = []
        var first = true
        while true {
            guard position < end else { throw PatternError(description: "unclosed '[' in the pattern") }
            let scalar = scalars[position]
            if scalar == "]", !first { position += 1; break }
            first = false
            position += 1
            var low: UInt32
            if scalar == "\\" {
                let set = try parseEscape(end: end, inClass: true)
                guard set.count == 1, set[0].lowerBound == set[0].upperBound else { ranges += set; continue }
                low = set[0].lowerBound
            } else {
                low = scalar.value
            }
            if position + 1 < end, scalars[position] == "-", scalars[position + 1] != "]" {
                position += 1
                var high = scalars[position].value
                position += 1
                if high == 0x5C {
                    let set = try parseEscape(end: end, inClass: true)
                    guard set.count == 1, set[0].lowerBound == set[0].upperBound else {
                        throw PatternError(description: "a class range cannot end in a class escape")
                    }
                    high = set[0].lowerBound
                }
                guard low <= high else { throw PatternError(description: "class range out of order") }
                ranges.append(low...high)
            } else {
                ranges.append(low...low)
            }
        }
        let normalized = Self.normalize(ranges)
        return negated ? Self.subtract(Self.anyScalar, normalized) : normalized
    }

    private mutating func parseEscape(end: Int, inClass: Bool) throws(PatternError) -> [ClosedRange<UInt32>] {
        guard position < end else { throw PatternError(description: "the pattern ends in a lone backslash") }
        let scalar = scalars[position]
        position += 1
        let digits: [ClosedRange<UInt32>] = [0x30...0x39]
        let word: [ClosedRange<UInt32>] = [0x30...0x39, 0x41...0x5A, 0x5F...0x5F, 0x61...0x7A]
        let space: [ClosedRange<UInt32>] = Self.normalize([
            0x09...0x0D, 0x20...0x20, 0xA0...0xA0, 0x1680...0x1680, 0x2000...0x200A, 0x2028...0x2029, 0x202F...0x202F,
            0x205F...0x205F, 0x3000...0x3000,
        ])
        // Engines disagree beyond ASCII (Python's \d and \w are Unicode-aware, ECMA's are not; only ECMA's \s has
        // U+FEFF), so classes take the reading every engine accepts: \s without U+FEFF, complements within ASCII.
        let ascii: [ClosedRange<UInt32>] = [0...0x7F]
        switch scalar {
        case "d": return digits
        case "D": return Self.subtract(ascii, digits)
        case "w": return word
        case "W": return Self.subtract(ascii, word)
        case "s": return space
        case "S": return Self.subtract(ascii, space)
        case "n": return [0x0A...0x0A]
        case "t": return [0x09...0x09]
        case "r": return [0x0D...0x0D]
        case "f": return [0x0C...0x0C]
        case "v": return [0x0B...0x0B]
        case "u":
            var value: UInt32 = 0
            for _ in 0..<4 {
                guard position < end, let digit = Self.hexValue(scalars[position]) else {
                    throw PatternError(description: "expected four hex digits after \\u")
                }
                value = value << 4 | digit
                position += 1
            }
            return [value...value]
        default:
            if scalar.properties.isAlphabetic || scalar.properties.numericType != nil {
                throw PatternError(description: "escape '\\\(scalar)' is not supported")
            }
            return [scalar.value...scalar.value]
        }
    }

    private static func hexValue(_ scalar: Unicode.Scalar) -> UInt32? {
        switch scalar.value {
        case 0x30...0x39: scalar.value - 0x30
        case 0x41...0x46: scalar.value - 0x41 + 10
        case 0x61...0x66: scalar.value - 0x61 + 10
        default: nil
        }
    }

    /// Sorted, merged ranges.
    static func normalize(_ ranges: [ClosedRange<UInt32>]) -> [ClosedRange<UInt32>] {
        var result: [ClosedRange<UInt32>] = []
        for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = result.last, range.lowerBound <= last.upperBound &+ 1 {
                result[result.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            } else {
                result.append(range)
            }
        }
        return result
    }

    /// `base` without `removed` (both normalized).
    static func subtract(_ base: [ClosedRange<UInt32>], _ removed: [ClosedRange<UInt32>]) -> [ClosedRange<UInt32>] {
        var result: [ClosedRange<UInt32>] = []
        for range in base {
            var low = range.lowerBound
            var open = true
            for cut in normalize(removed) where cut.upperBound >= low && cut.lowerBound <= range.upperBound {
                if cut.lowerBound > low { result.append(low...(cut.lowerBound - 1)) }
                if cut.upperBound >= range.upperBound { open = false; break }
                low = cut.upperBound + 1
            }
            if open { result.append(low...range.upperBound) }
        }
        return result
    }
}
