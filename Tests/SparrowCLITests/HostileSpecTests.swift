import Foundation
import TestSupport
import Testing

/// Bad input never crashes or hangs `sparrow validate`: each case ends with a clear error and exit 2, within a
/// generous 30 s watchdog (a guard against hangs, not a timing threshold) and in bounded memory.
@Suite struct HostileSpecTests {
    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var make: @Sendable () -> [UInt8]
        /// The start of the error message (after `FILE:LINE:COLUMN: error: `).
        var expected: String
        var description: String { name }
    }

    static let cases: [Case] = [
        Case(name: "binary", make: {
            var generator = SplitMix64(seed: 7)
            return (0..<65_536).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        }, expected: "the file is not"),
        Case(name: "empty", make: { [] }, expected: "the spec is empty"),
        Case(name: "ten-megabytes", make: {
            Array(String(repeating: "key: value\n", count: 10_000_000 / 11 + 1).utf8)
        }, expected: "the spec is 9.5 MiB; the limit is 1.0 MiB"),
        Case(name: "deep-flow-nesting", make: {
            Array(("a: " + String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)).utf8)
        }, expected: "nesting is deeper than 64 levels"),
        Case(name: "deep-block-nesting", make: {
            Array((String(repeating: "- ", count: 10_000) + "x\n").utf8)
        }, expected: "nesting is deeper than 64 levels"),
        Case(name: "deep-mapping-nesting", make: {
            Array((0..<10_000).map { String(repeating: " ", count: $0 % 50) + "k\($0): {" }.joined() .utf8)
        }, expected: "nesting is deeper than 64 levels"),
        Case(name: "billion-laughs", make: {
            var lines = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
            let names = Array("abcdefghijklmnop")
            for level in 1..<16 {
                let alias = "*\(names[level - 1])"
                lines.append("\(names[level]): &\(names[level]) [\(Array(repeating: alias, count: 9).joined(separator: ", "))]")
            }
            return Array(lines.joined(separator: "\n").utf8)
        }, expected: "the document expands to more than 100000 nodes"),
        Case(name: "latin-1", make: { Array("version: 1\nmodel: {path: ".utf8) + [0x6D, 0xE9, 0x6D, 0x6F] + Array("}\n".utf8) },
             expected: "the file is not valid UTF-8 text"),
        Case(name: "nul-bytes", make: { Array("version: 1\n".utf8) + [0, 0, 0, 0] }, expected: "the file is not YAML text"),
        Case(name: "long-line", make: { Array(("version: " + String(repeating: "9", count: 900_000)).utf8) },
             expected: "version: expected the integer 1"),
    ]

    @Test(arguments: cases)
    func endsWithAClearErrorAndExitTwo(_ hostile: Case) throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let file = try folder.write(Data(hostile.make()), to: "\(hostile.name).yaml")
        let result = try SparrowBinary.run(["validate", file.path], measureMemory: true)
        #expect(!result.timedOut, "\(hostile.name) ran past the 30 s watchdog")
        #expect(result.exitCode == 2)
        let first = result.standardError.split(separator: "\n").first.map(String.init) ?? ""
        let prefix = "\(file.path):"
        #expect(first.hasPrefix(prefix), "\(first)")
        let afterPosition = first.dropFirst(prefix.count).split(separator: " ", maxSplits: 2)
        #expect(afterPosition.count == 3 && afterPosition[1] == "error:", "\(first)")
        #expect(result.standardError.contains("error: \(hostile.expected)"), "\(result.standardError.prefix(2000))")
        // Bounded memory: well under the size of an expanded bomb or a read of a whole endless file.
        #expect(result.maxResidentKiB < 256 * 1024, "peak resident memory \(result.maxResidentKiB) KiB")
        print("hostile-spec \(hostile.name): \(String(format: "%.3f", result.seconds)) s, peak \(result.maxResidentKiB) KiB")
    }

    @Test func anEndlessFileIsReadOnlyUpToTheLimit() throws {
        let result = try SparrowBinary.run(["validate", "/dev/zero"])
        #expect(!result.timedOut)
        #expect(result.exitCode == 2)
        #expect(result.standardError.hasPrefix("/dev/zero:1:1: error: the spec is "))
    }
}

/// A small deterministic generator for test data.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
