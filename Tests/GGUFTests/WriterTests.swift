import Foundation
import GGUF
import Testing

/// The writer against gguf-py's GGUFWriter: re-writing what Sparrow read from a gguf-py file must give the
/// same bytes.
@Suite("GGUF writer")
struct WriterTests {
    @Test("re-writing a gguf-py fixture reproduces it byte for byte", arguments: ["tiny-v3", "tiny-v2-align64"])
    func reproducesReferenceWriter(name: String) throws {
        let original = try Data(contentsOf: fixturesDirectory.appendingPathComponent("\(name).gguf"))
        let file = try GGUFFile(bytes: original)
        var writer = try GGUFWriter(version: file.version, alignment: file.alignment)
        for entry in file.metadata.entries { try writer.set(entry.key, entry.value) }
        for info in file.tensors {
            try writer.addTensor(
                name: info.name, dimensions: info.dimensions, type: info.type, data: Data(try file.view(of: info).bytes)
            )
        }
        let rewritten = writer.serialized()
        #expect(rewritten.count == original.count)
        let firstDifference = zip(rewritten, original).enumerated().first { $0.element.0 != $0.element.1 }?.offset
        #expect(firstDifference == nil, "first differing byte: \(String(describing: firstDifference))")
    }

    @Test("a written file reads back with every value type")
    func roundTrip() throws {
        var writer = try GGUFWriter(alignment: 16)
        let values: [(String, GGUFValue)] = [
            ("a.u8", .uint8(1)), ("a.i8", .int8(-1)), ("a.u16", .uint16(2)), ("a.i16", .int16(-2)),
            ("a.u32", .uint32(3)), ("a.i32", .int32(-3)), ("a.f32", .float32(0.25)), ("a.bool", .bool(true)),
            ("a.string", .string("ü")), ("a.u64", .uint64(.max)), ("a.i64", .int64(.min)), ("a.f64", .float64(-0.5)),
            ("a.strings", .array(.string(["x", "", "yz"]))), ("a.empty", .array(.float32([]))),
            ("a.nested", .array(.array([.int16([1, 2]), .int16([])]))),
        ]
        for (key, value) in values { try writer.set(key, value) }
        try writer.addTensor(name: "t", dimensions: [32, 2], type: GGUFTensorType(.q4_0), data: Data(repeating: 7, count: 36))
        try writer.addTensor(name: "u", dimensions: [3], type: GGUFTensorType(.f32), data: Data(repeating: 1, count: 12))
        let file = try GGUFFile(bytes: writer.serialized())
        #expect(file.alignment == 16)
        #expect(file.metadata["general.alignment"] == .uint32(16))
        for (key, value) in values { #expect(file.metadata[key] == value, "\(key)") }
        #expect(file.tensors.map(\.name) == ["t", "u"])
        #expect(file.tensors.map(\.relativeOffset) == [0, 48])
        #expect(Array(try file.tensor(named: "u").bytes) == Array(repeating: 1, count: 12))
    }

    @Test("the writer refuses data of the wrong size, duplicate names and bad alignments")
    func refusesInvalidInput() throws {
        var writer = try GGUFWriter()
        #expect(throws: GGUFError.self) {
            try writer.addTensor(name: "t", dimensions: [32], type: GGUFTensorType(.q8_0), data: Data(count: 33))
        }
        #expect(throws: GGUFError.self) {
            try writer.addTensor(name: "t", dimensions: [31], type: GGUFTensorType(.q8_0), data: Data(count: 34))
        }
        try writer.set("k", .bool(false))
        #expect(throws: GGUFError.invalidWrite("duplicate key 'k'")) { try writer.set("k", .bool(true)) }
        #expect(throws: GGUFError.self) { try GGUFWriter(alignment: 48) }
        #expect(throws: GGUFError.self) { try GGUFWriter(version: 1) }
    }
}
