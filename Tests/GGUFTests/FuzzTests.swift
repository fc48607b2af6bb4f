import Foundation
import GGUF
import Testing
import TestSupport

/// Truncated and mutated GGUF files: every one either parses (and then every tensor view lies inside the file)
/// or fails with a GGUFError that names a byte offset. No crash, no unbounded allocation (counts are checked
/// against the file size before anything is reserved), no hang. The separate libFuzzer run (Scripts/fuzz)
/// covers many more cases; this suite keeps a fixed, seeded 500 in every test run.
@Suite("GGUF fuzzing: truncated and mutated files")
struct FuzzTests {
    static let seeds: [String] = ["tiny-v3", "tiny-v2-align64"]
    static let mutatedCases = 500

    /// Parses `bytes`; returns nil when it parsed, else the error's text. Records an issue for anything but a
    /// GGUFError naming a byte offset, or a tensor view outside the file.
    @discardableResult
    static func check(_ bytes: Data, label: String) -> String? {
        do {
            let file = try GGUFFile(bytes: bytes)
            for info in file.tensors {
                let view = try file.view(of: info)
                #expect(info.absoluteOffset + info.byteCount <= bytes.count, "\(label): view beyond the file")
                #expect(view.bytes.count == info.byteCount, "\(label)")
                // Touch the first and last byte of every view, and the first and last row.
                if let first = view.bytes.first, let last = view.bytes.last { _ = first &+ last }
                #expect(info.rowCount * info.rowByteCount == info.byteCount, "\(label): rows of \(info.name)")
                _ = view.row(0)?.first
                _ = view.row(info.rowCount - 1)?.last
                _ = info.elementCount
            }
            // What `sparrow model info` does with a file must not trap either.
            if let summary = try? GGUFModelSummary(file) {
                _ = summary.text()
                #expect((try? summary.json()) != nil, "\(label): summary JSON")
            }
            return nil
        } catch let error as GGUFError {
            let text = error.description
            #expect(text.contains("byte"), "\(label): error without a byte offset: \(text)")
            return text
        } catch {
            Issue.record("\(label): unexpected error type \(type(of: error)): \(error)")
            return "\(error)"
        }
    }

    @Test("every prefix that cuts into the tensor data or before is refused with a byte offset", arguments: seeds)
    func truncations(name: String) throws {
        let original = try Data(contentsOf: fixturesDirectory.appendingPathComponent("\(name).gguf"))
        // Where gguf-py says the last tensor's data ends; only the trailing padding may be cut.
        let reference = try ReaderDump.load(fixturesDirectory.appendingPathComponent("\(name).reader.json"))
        let dataEnd = reference.tensors.map { $0.offset + $0.bytes }.max() ?? 0
        var refused = 0
        for length in 0..<original.count {
            if Self.check(original.prefix(length), label: "\(name) cut at \(length)") != nil { refused += 1 }
        }
        #expect(refused == dataEnd)
    }

    @Test("500 seeded mutations: bit flips, byte and integer overwrites, cuts, insertions")
    func mutations() throws {
        let originals = try Self.seeds.map { try Data(contentsOf: fixturesDirectory.appendingPathComponent("\($0).gguf")) }
            + [try GGUFBuilder.smallModel()]
        var random = GGUFBuilder.Random(seed: 0x5EED_6611F)
        var outcomes: [String: Int] = [:]
        for index in 0..<Self.mutatedCases {
            let base = originals[index % originals.count]
            let mutated = GGUFMutator.mutate(base, using: &random)
            let result = Self.check(mutated, label: "case \(index)")
            // Group outcomes by the error's kind (its text up to the first colon) for the summary below.
            let kind = result.map { String($0.prefix { $0 != ":" }) } ?? "parsed"
            outcomes[kind, default: 0] += 1
        }
        #expect(outcomes.values.reduce(0, +) == Self.mutatedCases)
        // The mutations must reach past the header: some cases fail in metadata or tensor checks.
        #expect(outcomes.keys.count > 2, "outcomes: \(outcomes)")
    }
}

/// Mutations that target GGUF's weak spots: counts and lengths (u64 overwrites with boundary values), type ids,
/// single bits, cuts and insertions.
enum GGUFMutator {
    static let interesting: [UInt64] = [
        0, 1, 2, 3, 4, 7, 8, 9, 12, 13, 31, 32, 33, 63, 64, 255, 256, 65535, 0x7FFF_FFFF, 0xFFFF_FFFF,
        1 << 32, 1 << 40, 1 << 62, 1 << 63, UInt64(Int64.max), UInt64.max, UInt64.max - 31,
    ]

    static func mutate(_ original: Data, using random: inout GGUFBuilder.Random) -> Data {
        var bytes = [UInt8](original)
        let steps = Int.random(in: 1...3, using: &random)
        for _ in 0..<steps where !bytes.isEmpty {
            let at = Int.random(in: 0..<bytes.count, using: &random)
            switch Int.random(in: 0..<6, using: &random) {
            case 0:
                bytes[at] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &random)
            case 1:
                bytes[at] = UInt8.random(in: 0...255, using: &random)
            case 2, 3:
                // Overwrite an integer field (most header fields are u64 or u32) with a boundary value.
                let value = interesting.randomElement(using: &random) ?? 0
                let width = Bool.random(using: &random) ? 8 : 4
                for k in 0..<width where at + k < bytes.count {
                    bytes[at + k] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(k)))
                }
            case 4:
                bytes.removeSubrange(at..<bytes.count)
            default:
                let count = Int.random(in: 1...16, using: &random)
                bytes.insert(contentsOf: (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }, at: at)
            }
        }
        return Data(bytes)
    }
}
