/// Strings: JSON escapes, UTF-8 validity (no overlong forms, no surrogates), length in scalars, and the decoded
/// content run through the pattern DFA or the suffix automaton of the `x-sparrow-substring-of` text (or of the
/// `x-sparrow-unique-substring-of` text: then a string closes only where it occurs once, and never walks into a
/// state from which no spellable extension occurs once).
extension ByteMatcher {
    func stepString(_ frame: inout StringFrame, _ byte: UInt8) -> StepResult {
        let node = program.strings[Int(frame.node)]
        switch frame.phase {
        case .start:
            guard byte == UInt8(ascii: "\"") else { return .rejected }
            frame.phase = .content
            return .consumed
        case .escape:
            guard let value = JSONStringEncoding.unescaped(byte), accept(byte: value, scalar: UInt32(value), &frame, node) else {
                return .rejected
            }
            frame.phase = .content
            return .consumed
        case .content:
            break
        }
        if frame.pending > 0 {
            guard byte >= frame.low, byte <= frame.high else { return .rejected }
            let bits = frame.scalar << 6 | UInt32(byte & 0x3F)
            if let substring = program.substring(of: node) {
                let next = substring.next(frame.automaton, byte)
                guard next >= 0, !substring.requiresUnique || substring.extensionCost(next) != Int32.max else { return .rejected }
                frame.automaton = next
            }
            frame.pending -= 1
            frame.scalar = bits
            frame.low = 0x80
            frame.high = 0xBF
            if frame.pending == 0 {
                guard acceptScalar(bits, &frame, node) else { return .rejected }
            } else if let pattern = program.pattern(of: node) {
                let shift = 6 * UInt32(frame.pending)
                let low = bits << shift
                let room = node.maxLength == Int.max ? Int.max : node.maxLength - Int(frame.count) - 1
                guard pattern.cheapestThrough(frame.automaton, low: low, high: low | ((1 << shift) - 1), maxChars: room) != nil else {
                    return .rejected
                }
            }
            return .consumed
        }
        switch byte {
        case UInt8(ascii: "\""):
            guard Int(frame.count) >= node.minLength else { return .rejected }
            if let pattern = program.pattern(of: node), !pattern.accepting[Int(frame.automaton)] { return .rejected }
            if let substring = program.substring(of: node), substring.requiresUnique, !substring.occursOnce(frame.automaton) {
                return .rejected
            }
            return .closed
        case UInt8(ascii: "\\"):
            for letter in JSONStringEncoding.escapeLetters {
                guard let value = JSONStringEncoding.unescaped(letter) else { continue }
                var trial = frame
                if accept(byte: value, scalar: UInt32(value), &trial, node) {
                    frame.phase = .escape
                    return .consumed
                }
            }
            return .rejected
        case 0..<0x20:
            return .rejected
        case 0x20..<0x80:
            return accept(byte: byte, scalar: UInt32(byte), &frame, node) ? .consumed : .rejected
        default:
            return startMultibyte(byte, &frame, node) ? .consumed : .rejected
        }
    }

    /// A one-byte scalar (raw, or the value of an escape).
    @inline(__always)
    private func accept(byte: UInt8, scalar: UInt32, _ frame: inout StringFrame, _ node: StringNode) -> Bool {
        if let substring = program.substring(of: node) {
            let next = substring.next(frame.automaton, byte)
            guard next >= 0, !substring.requiresUnique || substring.extensionCost(next) != Int32.max else { return false }
            frame.automaton = next
        }
        return acceptScalar(scalar, &frame, node)
    }

    /// Counts a complete scalar and moves the pattern DFA.
    @inline(__always)
    private func acceptScalar(_ scalar: UInt32, _ frame: inout StringFrame, _ node: StringNode) -> Bool {
        guard Int(frame.count) < node.maxLength else { return false }
        if let pattern = program.pattern(of: node) {
            let next = pattern.next(frame.automaton, scalar: scalar)
            guard next >= 0 else { return false }
            if node.maxLength != Int.max, pattern.distanceChars[Int(next)] > node.maxLength - Int(frame.count) - 1 { return false }
            frame.automaton = next
        }
        frame.count += 1
        return true
    }

    /// The lead byte of a 2-, 3- or 4-byte scalar (RFC 3629 table of well-formed sequences).
    private func startMultibyte(_ byte: UInt8, _ frame: inout StringFrame, _ node: StringNode) -> Bool {
        let pending: UInt8
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        let bits: UInt32
        switch byte {
        case 0xC2...0xDF: pending = 1; bits = UInt32(byte & 0x1F)
        case 0xE0: pending = 2; low = 0xA0; bits = 0
        case 0xE1...0xEC, 0xEE...0xEF: pending = 2; bits = UInt32(byte & 0x0F)
        case 0xED: pending = 2; high = 0x9F; bits = 0x0D
        case 0xF0: pending = 3; low = 0x90; bits = 0
        case 0xF1...0xF3: pending = 3; bits = UInt32(byte & 0x07)
        case 0xF4: pending = 3; high = 0x8F; bits = 4
        default: return false
        }
        guard Int(frame.count) < node.maxLength else { return false }
        var automaton = frame.automaton
        if let substring = program.substring(of: node) {
            automaton = substring.next(frame.automaton, byte)
            guard automaton >= 0, !substring.requiresUnique || substring.extensionCost(automaton) != Int32.max else { return false }
        }
        if let pattern = program.pattern(of: node) {
            let shift = 6 * UInt32(pending - 1)
            let lowest = (bits << 6 | UInt32(low & 0x3F)) << shift
            let highest = (bits << 6 | UInt32(high & 0x3F)) << shift | ((1 << shift) - 1)
            let room = node.maxLength == Int.max ? Int.max : node.maxLength - Int(frame.count) - 1
            guard pattern.cheapestThrough(frame.automaton, low: lowest, high: highest, maxChars: room) != nil else { return false }
        }
        frame.automaton = automaton
        frame.pending = pending
        frame.low = low
        frame.high = high
        frame.scalar = bits
        return true
    }

    /// Fewest bytes that close the string from `frame` (closing quote included).
    func stringCost(_ frame: StringFrame) -> Int {
        let node = program.strings[Int(frame.node)]
        let count = Int(frame.count)
        let room = node.maxLength == Int.max ? Int.max : node.maxLength - count - 1
        if let substring = program.substring(of: node), substring.requiresUnique {
            return uniqueSubstringCost(frame, substring)
        }
        switch frame.phase {
        case .start:
            if let pattern = program.pattern(of: node) { return 2 + pattern.distanceBytes[0] }
            if let substring = program.substring(of: node), node.minLength > 0 { return 2 + (substring.cheapestFirstCharBytes ?? 1) }
            return 2 + node.minLength
        case .escape:
            if let pattern = program.pattern(of: node) {
                var best = Int.max
                for letter in JSONStringEncoding.escapeLetters {
                    guard let value = JSONStringEncoding.unescaped(letter) else { continue }
                    let next = pattern.next(frame.automaton, scalar: UInt32(value))
                    if next >= 0, pattern.distanceChars[Int(next)] <= room { best = min(best, pattern.distanceBytes[Int(next)]) }
                }
                return 2 + best
            }
            return 2 + (node.substring >= 0 ? 0 : max(0, node.minLength - count - 1))
        case .content:
            if frame.pending > 0 {
                let pending = Int(frame.pending)
                if let pattern = program.pattern(of: node) {
                    let shift = 6 * UInt32(frame.pending)
                    let low = frame.scalar << shift
                    let rest = pattern.cheapestThrough(frame.automaton, low: low, high: low | ((1 << shift) - 1), maxChars: room)
                    return pending + (rest ?? 0) + 1
                }
                return pending + 1 + (node.substring >= 0 ? 0 : max(0, node.minLength - count - 1))
            }
            if let pattern = program.pattern(of: node) { return pattern.distanceBytes[Int(frame.automaton)] + 1 }
            if let substring = program.substring(of: node), count < node.minLength { return (substring.cheapestFirstCharBytes ?? 1) + 1 }
            return max(0, node.minLength - count) + 1
        }
    }

    /// `stringCost` for a unique-substring string: the canonical extension's bytes (continuation bytes of a
    /// pending character included) and the closing quote. Never below the cheapest way to close.
    private func uniqueSubstringCost(_ frame: StringFrame, _ substring: SuffixAutomaton) -> Int {
        switch frame.phase {
        case .start:
            return 2 + Int(substring.uniqueStartCost)
        case .escape:
            var best = Int.max
            for letter in JSONStringEncoding.escapeLetters {
                guard let value = JSONStringEncoding.unescaped(letter) else { continue }
                let next = substring.next(frame.automaton, value)
                if next >= 0, substring.extensionCost(next) != Int32.max { best = min(best, Int(substring.extensionCost(next))) }
            }
            return best == Int.max ? Int(Int32.max) : 2 + best  // (entering the escape checked that a letter fits)
        case .content:
            let extensionCost = frame.automaton == 0 ? substring.uniqueStartCost : substring.extensionCost(frame.automaton)
            return Int(extensionCost) + 1
        }
    }
}
