import Foundation
import Jobs
import Testing

@Suite struct YAMLReaderTests {
    private func parse(_ text: String, limits: YAMLLimits = .jobSpec) throws -> YAMLNode? {
        try YAMLReader.parse(Array(text.utf8), limits: limits)
    }

    private func error(_ bytes: [UInt8], limits: YAMLLimits = .jobSpec) -> YAMLError? {
        do {
            _ = try YAMLReader.parse(bytes, limits: limits)
            return nil
        } catch {
            return error
        }
    }

    @Test func nodesCarryTheirOneBasedPositions() throws {
        let root = try #require(try parse("a: 1\nlist:\n  - x\n  - {k: 'v'}\n"))
        guard case let .mapping(pairs) = root.content else {
            Issue.record("expected a mapping")
            return
        }
        #expect(pairs.map(\.key.scalar?.text) == ["a", "list"])
        #expect(pairs[0].value.location == SourceLocation(line: 1, column: 4))
        guard case let .sequence(items) = pairs[1].value.content, case let .mapping(inner) = items[1].content else {
            Issue.record("expected a list holding a mapping")
            return
        }
        #expect(items[0].location == SourceLocation(line: 3, column: 5))
        #expect(inner[0].value.scalar == YAMLNode.Scalar(text: "v", style: .singleQuoted))
        #expect(inner[0].value.location == SourceLocation(line: 4, column: 9))
    }

    @Test func aliasesRepeatTheAnchoredNode() throws {
        let root = try #require(try parse("base: &b {x: 1}\ncopy: *b\n"))
        guard case let .mapping(pairs) = root.content else { return #expect(Bool(false)) }
        #expect(pairs[0].value.content == pairs[1].value.content)
    }

    @Test func anAliasInsideItsOwnAnchorIsRejected() {
        let failure = error(Array("a: &x [1, *x]\n".utf8))
        #expect(failure?.message == "alias *x refers to a node that contains it")
    }

    @Test func emptyAndCommentOnlyStreamsHoldNoDocument() throws {
        #expect(try parse("") == nil)
        #expect(try parse("# nothing here\n\n") == nil)
    }

    @Test func deepFlowNestingStopsAtTheLimit() {
        let text = "a: " + String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        let failure = error(Array(text.utf8))
        #expect(failure?.message == "nesting is deeper than 64 levels")
        #expect(failure?.location == SourceLocation(line: 1, column: 4 + 63))
    }

    @Test func deepBlockNestingStopsAtTheLimit() {
        let text = String(repeating: "- ", count: 10_000) + "x\n"
        #expect(error(Array(text.utf8))?.message == "nesting is deeper than 64 levels")
    }

    @Test func billionLaughsStopsAtTheNodeLimit() {
        var lines = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
        let names = Array("abcdefghij")
        for level in 1..<10 {
            let alias = "*\(names[level - 1])"
            lines.append("\(names[level]): &\(names[level]) [\(Array(repeating: alias, count: 9).joined(separator: ", "))]")
        }
        let failure = error(Array(lines.joined(separator: "\n").utf8))
        #expect(failure?.message.hasPrefix("the document expands to more than 100000 nodes") == true)
    }

    @Test func oversizedDocumentsAreRejectedBeforeParsing() {
        let bytes = [UInt8](repeating: UInt8(ascii: "a"), count: 2_000_000)
        #expect(error(bytes)?.message == "the document is 1.9 MiB; the limit is 1.0 MiB")
    }

    @Test func invalidUTF8IsLocated() {
        var bytes = Array("version: 1\nname: caf".utf8)
        bytes.append(0xE9)
        bytes += Array("\n".utf8)
        let failure = error(bytes)
        #expect(failure?.location == SourceLocation(line: 2, column: 10))
        #expect(failure?.message.hasPrefix("the file is not valid UTF-8 text") == true)
    }

    @Test func binaryDataIsRejected() {
        let failure = error([0x7F, 0x45, 0x4C, 0x46, 0x02, 0x01, 0x00, 0x00])
        #expect(failure?.message.hasPrefix("the file is not YAML text (binary?)") == true)
    }

    @Test func utf16WithByteOrderMarkIsRead() throws {
        var bytes: [UInt8] = [0xFF, 0xFE]
        for unit in "k: v\n".utf16 { bytes += [UInt8(unit & 0xFF), UInt8(unit >> 8)] }
        let root = try #require(try YAMLReader.parse(bytes))
        guard case let .mapping(pairs) = root.content else { return #expect(Bool(false)) }
        #expect(pairs.first?.value.scalar?.text == "v")
    }

    @Test func syntaxErrorsNameProblemAndContext() {
        let failure = error(Array("a: [1, 2\nb: 3\n".utf8))
        #expect(failure?.message.hasPrefix("YAML syntax: ") == true)
        #expect(failure?.message.contains("flow sequence") == true)
    }
}
