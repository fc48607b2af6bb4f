import Foundation
import Generation
import Testing
@testable import Engine

/// The pattern DFA against Foundation's `NSRegularExpression` (ICU), and the suffix automaton against a naive
/// search, on random strings.
@Suite struct AutomatonReferenceTests {
    static let patterns = [
        "^[a-z]+$", "^[A-Z][a-z]*(-[a-z]+)*$", "^\\d{1,3}(\\.\\d{1,3}){3}$", "^(foo|bar|baz)+$", "^[a-f0-9]{2,4}$", "[0-9]",
        "^[^\"\\\\]{0,3}$", "^(?:ab|cd)?x*$", "^é+ü?$", "^.{2,5}$", "^\\w+\\s\\w+$", "^\\S+$", "ab", "^$", "^[\\u0041-\\u0043]+$",
        "^(\\+|-)?[1-9][0-9]*$", "^[^a-z]*$", "a|b", "^a{2}b{0,2}c{1,}$", "^[-a]+$",
    ]
    static let alphabet: [Unicode.Scalar] = ["a", "b", "c", "x", "f", "o", "z", "A", "B", "0", "1", "9", ".", "-", "+", " ", "\n", "\"", "\\", "é", "ü", "日"]

    @Test(arguments: patterns)
    func patternAgreesWithNSRegularExpression(_ pattern: String) throws {
        let automaton = try PatternAutomaton(pattern: pattern)
        let regex = try NSRegularExpression(pattern: pattern)
        var generator = SeededGenerator(seed: UInt64(pattern.utf8.count) * 7919)
        for trial in 0..<3000 {
            let length = Int.random(in: 0...7, using: &generator)
            var scalars = String.UnicodeScalarView()
            for _ in 0..<length { scalars.append(Self.alphabet.randomElement(using: &generator) ?? "a") }
            // Bias a third of the trials towards matches: build strings from the pattern's own literals.
            if trial % 3 == 0 {
                let literal = pattern.unicodeScalars.filter { !"^$[]()\\{}*+?|.".unicodeScalars.contains($0) }
                scalars = String.UnicodeScalarView(literal.prefix(length + 2))
            }
            let text = String(scalars)
            var state: Int32 = 0
            for scalar in text.unicodeScalars where state >= 0 { state = automaton.next(state, scalar: scalar.value) }
            let ours = state >= 0 && automaton.accepting[Int(state)]
            let reference = regex.firstMatch(in: text, range: NSRange(text.startIndex..<text.endIndex, in: text)) != nil
            // ICU's `$` also matches before a final newline, and its `\w`, `\S`, `.` reach beyond ASCII; the DFA takes
            // the narrower reading, so it may refuse what ICU accepts, never the reverse.
            if ours { #expect(reference, "\(pattern) accepted \(text.debugDescription), ICU does not") }
            if reference, !ours { #expect(Self.narrowerReading(text, pattern), "\(pattern) refused \(text.debugDescription), ICU accepts it") }
        }
        // Strings the DFA itself generates (random walks to a match) must all match in ICU.
        var walks = 0
        for _ in 0..<300 {
            var state: Int32 = 0
            var text = String.UnicodeScalarView()
            while text.count < 40 {
                let options = automaton.transitions(of: state)
                if automaton.accepting[Int(state)], options.isEmpty || Bool.random(using: &generator) { break }
                guard let edge = options.randomElement(using: &generator) else { break }
                let span = min(edge.high - edge.low, 200)
                let value = edge.low + UInt32.random(in: 0...span, using: &generator)
                guard let scalar = Unicode.Scalar(value) else { break }
                text.append(scalar)
                state = edge.target
            }
            guard automaton.accepting[Int(state)] else { continue }
            walks += 1
            let string = String(text)
            let reference = regex.firstMatch(in: string, range: NSRange(string.startIndex..<string.endIndex, in: string)) != nil
            #expect(reference, "\(pattern): the DFA generated \(string.debugDescription), ICU does not match it")
        }
        #expect(walks > 0, "no walk reached a match for \(pattern); the test would prove nothing")
    }

    /// Where the DFA may be stricter than ICU: a newline anywhere (ICU's `$`), or non-ASCII text under classes
    /// that ICU reads as Unicode-wide.
    static func narrowerReading(_ text: String, _ pattern: String) -> Bool {
        if text.unicodeScalars.contains("\n") { return true }
        let wide = ["\\w", "\\W", "\\S", "\\D", "\\s", "."].contains { pattern.contains($0) }
        return wide && text.unicodeScalars.contains { $0.value >= 0x80 }
    }

    @Test func suffixAutomatonRecognisesExactlyTheSubstrings() {
        var generator = SeededGenerator(seed: 42)
        for _ in 0..<20 {
            let text = (0..<Int.random(in: 0...60, using: &generator)).map { _ in UInt8.random(in: 97...100, using: &generator) }
            let automaton = SuffixAutomaton(text: text)
            #expect(automaton.stateCount <= max(2, 2 * text.count))
            for _ in 0..<300 {
                let probe = (0..<Int.random(in: 1...6, using: &generator)).map { _ in UInt8.random(in: 97...101, using: &generator) }
                var state: Int32 = 0
                for byte in probe where state >= 0 { state = automaton.next(state, byte) }
                #expect((state >= 0) == IndependentValidator.contains(text, probe), "\(probe) in \(text)")
            }
        }
    }

    @Test func uniqueModeKnowsWhichSubstringsOccurOnceAndHowToGetThere() {
        var generator = SeededGenerator(seed: 7)
        var closable = 0
        for round in 0..<40 {
            // Few letters so that most short strings repeat; every tenth text has a two-byte character.
            var text = (0..<Int.random(in: 1...50, using: &generator)).map { _ in UInt8.random(in: 97...99, using: &generator) }
            if round % 10 == 0 { text.insert(contentsOf: Array("é".utf8), at: text.count / 2) }
            let automaton = SuffixAutomaton(text: text, unique: true)
            for _ in 0..<300 {
                let start = Int.random(in: 0..<text.count, using: &generator)
                let probe = Array(text[start..<min(text.count, start + Int.random(in: 1...8, using: &generator))])
                var state: Int32 = 0
                for byte in probe where state >= 0 { state = automaton.next(state, byte) }
                #expect(state > 0, "\(probe) is a substring of \(text)")
                guard state > 0 else { continue }
                let count = IndependentValidator.occurrences(text, probe)
                #expect(automaton.occursOnce(state) == (count == 1), "\(probe) occurs \(count) times in \(text)")
                if automaton.occursOnce(state) { closable += 1 }
                // Following the text after the probe's first occurrence for `extensionCost` bytes (all one JSON byte
                // here) reaches a string that occurs once and ends on a character boundary.
                let cost = Int(automaton.extensionCost(state))
                #expect(cost < text.count, "finite extension for \(probe) in \(text)")
                guard cost < text.count else { continue }
                let first = (0...(text.count - probe.count)).first { text[$0..<($0 + probe.count)].elementsEqual(probe) } ?? 0
                let extended = Array(text[first..<(first + probe.count + cost)])
                #expect(IndependentValidator.occurrences(text, extended) == 1, "\(extended) in \(text)")
                #expect(String(validating: extended, as: UTF8.self) != nil || probe.contains { $0 >= 0x80 })
                if cost > 0 { #expect(IndependentValidator.occurrences(text, Array(extended.dropLast())) > 1 || extended.last.map { $0 & 0xC0 == 0x80 } == true) }
            }
        }
        #expect(closable > 100, "too few unique probes: the test would prove little")
    }

    @Test func uniqueSubstringConstraintClosesOnlyWhereTheStringOccursOnce() throws {
        let file = "x = 1\nx = 1\ny = \"x = 1\"\n"
        let schema = schemaObject(("type", .string("string")), ("x-sparrow-unique-substring-of", .string(file)))
        #expect(try !ByteVocabulary.run(schema, #""x = 1""#).complete)  // three times in the file
        #expect(try ByteVocabulary.run(schema, #""x = 1""#).accepted == 6)  // the closing quote is refused
        #expect(try ByteVocabulary.run(schema, #""1\ny""#).complete)  // once (the newline spelled as an escape)
        #expect(try ByteVocabulary.run(schema, #""y = \"x = 1\"""#).complete)
        #expect(try ByteVocabulary.run(schema, #""""#).accepted == 1)  // the empty string occurs everywhere
        // A maxLength would let the canonical extension run past it: refused at compile time, with the pointer.
        let bounded = schemaObject(("type", .string("string")), ("x-sparrow-unique-substring-of", .string(file)), ("maxLength", .number(3)))
        #expect(throws: SchemaConstraintError.self) { try ConstraintProgram(schema: bounded) }
        // A text whose every substring repeats cannot be satisfied.
        #expect(throws: SchemaConstraintError.self) {
            try ConstraintProgram(schema: schemaObject(("type", .string("string")), ("x-sparrow-unique-substring-of", .string(""))))
        }
    }

    @Test func substringConstraintWorksOnDecodedContent() throws {
        let file = "if a < b {\n\treturn \"x\\y\"\n}\n"
        let schema = schemaObject(("type", .string("string")), ("x-sparrow-substring-of", .string(file)), ("minLength", .number(1)))
        // The answer spells the newline, tab, quote and backslash as JSON escapes; the file has them raw.
        #expect(try ByteVocabulary.run(schema, #""b {\n\treturn \"x\\y\"\n}""#).complete)
        #expect(try ByteVocabulary.run(schema, #""a < b""#).complete)
        #expect(try !ByteVocabulary.run(schema, #""a > b""#).complete)
        #expect(try ByteVocabulary.run(schema, #""""#).accepted == 1)  // minLength 1: the empty string is refused
        #expect(try ByteVocabulary.run(schema, #""{\n\n""#).accepted == 5)
    }
}
