import Foundation
import GGUF
import Testing

/// Sparrow's reader against gguf-py's GGUFReader on the committed fixtures made by gguf-py's GGUFWriter
/// (Scripts/fixtures/gguf-fixtures.py; the expected `.reader.json` files are GGUFReader's output).
@Suite("GGUF reader vs gguf-py on committed fixtures")
struct ReaderFixtureTests {
    static let fixtures = ["tiny-v3", "tiny-v2-align64"]

    @Test("header, metadata and tensor infos match GGUFReader", arguments: fixtures)
    func matchesReferenceReader(name: String) throws {
        let file = try GGUFFile(contentsOf: fixturesDirectory.appendingPathComponent("\(name).gguf"))
        let expected = try ReaderDump.load(fixturesDirectory.appendingPathComponent("\(name).reader.json"))
        try compare(file, with: expected)
    }

    @Test("the same bytes parsed from memory give the same result as the mapped file", arguments: fixtures)
    func memoryAndMappingAgree(name: String) throws {
        let url = fixturesDirectory.appendingPathComponent("\(name).gguf")
        let mapped = try GGUFFile(contentsOf: url)
        let inMemory = try GGUFFile(bytes: Data(contentsOf: url))
        #expect(mapped.metadata == inMemory.metadata)
        #expect(mapped.tensors == inMemory.tensors)
        for info in mapped.tensors {
            #expect(Array(try mapped.view(of: info).bytes) == Array(try inMemory.view(of: info).bytes))
        }
    }

    @Test("the file read into huge-page memory gives the mapped file's records and bytes", arguments: fixtures)
    func readIntoMemoryAgreesWithMapping(name: String) throws {
        let url = fixturesDirectory.appendingPathComponent("\(name).gguf")
        let mapped = try GGUFFile(contentsOf: url)
        let memory = try GGUFFile(contentsOf: url, storage: .memory)
        #expect(mapped.storedAs == .mapped && memory.storedAs == .memory)
        #expect(memory.fileSize == mapped.fileSize)
        #expect(memory.metadata == mapped.metadata)
        #expect(memory.tensors == mapped.tensors)
        for info in mapped.tensors {
            let view = try memory.view(of: info)
            #expect(Array(view.bytes) == Array(try mapped.view(of: info).bytes))
            // The copy starts on a 2 MiB boundary, so the file's data alignment holds in memory too.
            let address = Int(bitPattern: view.bytes.baseAddress) - info.absoluteOffset
            #expect(address % (2 << 20) == 0)
        }
    }

    @Test("reading a missing file or a folder into memory fails with the path and the reason")
    func readIntoMemoryFailures() throws {
        let missing = URL(fileURLWithPath: "/nonexistent/sparrow/model.gguf")
        let notFound = #expect(throws: GGUFError.self) { try GGUFFile(contentsOf: missing, storage: .memory) }
        #expect(notFound == .cannotOpen(path: missing.path, reason: String(cString: strerror(ENOENT))))
        let folder = #expect(throws: GGUFError.self) { try GGUFFile(contentsOf: fixturesDirectory, storage: .memory) }
        #expect(folder == .cannotOpen(path: fixturesDirectory.path, reason: "not a regular file"))
    }

    @Test("tensor views point into the one mapping: no copies")
    func viewsAreZeroCopy() throws {
        let file = try GGUFFile(contentsOf: fixturesDirectory.appendingPathComponent("tiny-v3.gguf"))
        let first = try #require(file.tensors.first)
        let firstView = try file.view(of: first)
        let again = try file.tensor(named: first.name)
        #expect(firstView.bytes.baseAddress == again.bytes.baseAddress)
        let firstBase = try #require(firstView.bytes.baseAddress)
        for info in file.tensors.dropFirst() {
            let view = try file.view(of: info)
            let base = try #require(view.bytes.baseAddress)
            // Addresses differ exactly as the file offsets do: every view is a window on the same memory.
            #expect(firstBase.distance(to: base) == info.absoluteOffset - first.absoluteOffset)
            #expect(view.bytes.count == info.byteCount)
        }
    }

    @Test("a record of another file is checked against this file's size")
    func foreignRecord() throws {
        let small = try GGUFFile(contentsOf: fixturesDirectory.appendingPathComponent("tiny-v3.gguf"))
        let large = try GGUFFile(contentsOf: fixturesDirectory.appendingPathComponent("tiny-v2-align64.gguf"))
        let last = try #require(large.tensors.last)
        // The last tensor of the 64-aligned file ends past the end of the smaller file.
        #expect(last.absoluteOffset + last.byteCount > small.fileSize)
        #expect(throws: GGUFError.self) { try small.view(of: last) }
    }

    @Test("rows of a 3-D expert tensor are consecutive slabs, expert by expert")
    func expertRows() throws {
        let file = try GGUFFile(contentsOf: fixturesDirectory.appendingPathComponent("tiny-v3.gguf"))
        let view = try file.tensor(named: "blk.0.ffn_gate_exps.weight")
        #expect(view.info.dimensions == [32, 3, 4])
        #expect(view.info.rowCount == 12)
        #expect(view.info.rowByteCount == 34)
        let lastRow = try #require(view.row(11))
        #expect(Array(lastRow) == Array(view.bytes.suffix(34)))
        #expect(view.row(12) == nil)
        #expect(view.row(-1) == nil)
    }

    @Test("metadata accessors accept any integer width and name the key on a type mismatch")
    func metadataAccessors() throws {
        let file = try GGUFFile(contentsOf: fixturesDirectory.appendingPathComponent("tiny-v3.gguf"))
        let meta = file.metadata
        #expect(try meta.integer("test.u8") == 250)
        #expect(throws: GGUFError.metadataType(key: "test.u64", expected: "an integer", found: "UINT64 18000000000000000000, too large")) {
            try meta.integer("test.u64")
        }
        #expect(try meta.integer("qwen3moe.expert_count") == 4)
        #expect(try meta.string("general.architecture") == "qwen3moe")
        #expect(try meta.array("tokenizer.ggml.tokens").count == 40)
        #expect(throws: GGUFError.metadataType(key: "test.string", expected: "an integer", found: "STRING")) {
            try meta.integer("test.string")
        }
        #expect(throws: GGUFError.metadataMissing(key: "no.such.key")) { try meta.string("no.such.key") }
        #expect(throws: GGUFError.tensorNotFound("missing.weight")) { try file.tensor(named: "missing.weight") }
    }
}

/// Checks everything GGUFReader reports about a file against Sparrow's reading of it.
func compare(_ file: GGUFFile, with expected: ReaderDump) throws {
    #expect(Int(file.version) == expected.version)
    #expect(file.alignment == expected.alignment)
    #expect(file.dataOffset == expected.dataOffset)
    #expect(file.metadata.keys == expected.metadata.map(\.key))
    for field in expected.metadata {
        let value = try #require(file.metadata[field.key], "missing key \(field.key)")
        let (types, contents) = readerView(of: value)
        #expect(types == field.types, "types of \(field.key)")
        #expect(contents.matches(field.value), "value of \(field.key): \(contents) vs \(field.value)")
    }
    #expect(file.tensors.map(\.name) == expected.tensors.map(\.name))
    for (info, reference) in zip(file.tensors, expected.tensors) {
        #expect(info.type.name == reference.type, "type of \(info.name)")
        #expect(info.dimensions == reference.shape, "shape of \(info.name)")
        #expect(info.absoluteOffset == reference.offset, "offset of \(info.name)")
        #expect(info.byteCount == reference.bytes, "byte count of \(info.name)")
        let bytes = try file.view(of: info).bytes
        #expect(hex(bytes.prefix(16)) == reference.head, "first bytes of \(info.name)")
        #expect(hex(bytes.suffix(16)) == reference.tail, "last bytes of \(info.name)")
    }
}
