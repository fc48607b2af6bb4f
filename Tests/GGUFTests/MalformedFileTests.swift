import Foundation
import GGUF
import Testing
import TestSupport

/// Each malformed file is rejected with the error that names what was wrong and the byte offset where.
@Suite("GGUF reader rejects malformed files")
struct MalformedFileTests {
    private func parse(_ builder: GGUFBuilder) throws -> GGUFFile { try GGUFFile(bytes: builder.bytes) }

    /// A file with one metadata pair `key` of `type` whose payload is `payload`, and no tensors.
    private func onePair(key: String = "k", type: UInt32, payload: (inout GGUFBuilder) -> Void) -> GGUFBuilder {
        var b = GGUFBuilder()
        b.header(tensorCount: 0, pairCount: 1)
        b.string(key, label: "key")
        b.integer(type, label: "type")
        payload(&b)
        return b
    }

    @Test("an empty file, a wrong magic and version 1 are refused at bytes 0 and 4")
    func header() throws {
        #expect(throws: GGUFError.truncated(what: "magic", offset: 0, needed: 4, fileSize: 0)) {
            try GGUFFile(bytes: Data())
        }
        var b = GGUFBuilder()
        b.header(tensorCount: 0, pairCount: 0, magic: 0x4C4C_4747)
        #expect(throws: GGUFError.badMagic(found: 0x4C4C_4747)) { try parse(b) }
        var v1 = GGUFBuilder()
        v1.header(version: 1, tensorCount: 0, pairCount: 0)
        #expect(throws: GGUFError.unsupportedVersion(1, offset: 4)) { try parse(v1) }
    }

    @Test("counts that cannot fit in the rest of the file are refused before any allocation")
    func hugeCounts() throws {
        var tensors = GGUFBuilder()
        tensors.header(tensorCount: UInt64.max, pairCount: 0)
        #expect(throws: GGUFError.countTooLarge(what: "tensor count", count: .max, offset: 8, limit: 0)) { try parse(tensors) }
        var pairs = GGUFBuilder()
        pairs.header(tensorCount: 0, pairCount: 1 << 40)
        pairs.raw(Array(repeating: 0, count: 26))
        #expect(throws: GGUFError.countTooLarge(what: "metadata key/value count", count: 1 << 40, offset: 16, limit: 2)) {
            try parse(pairs)
        }
        let strings = onePair(type: 9) { b in
            b.integer(UInt32(8), label: "element type")
            b.integer(UInt64(1) << 62, label: "count")
            b.raw(Array(repeating: 0, count: 80))
        }
        let countOffset = try #require(strings.offsets["count"])
        #expect(throws: GGUFError.countTooLarge(
            what: "element count of the array in 'k'", count: 1 << 62, offset: countOffset, limit: 10
        )) { try parse(strings) }
        let longString = onePair(type: 8) { b in b.string("abc", length: 1 << 50, label: "string") }
        let stringOffset = try #require(longString.offsets["string"])
        #expect(throws: GGUFError.countTooLarge(
            what: "length of value of 'k'", count: 1 << 50, offset: stringOffset, limit: 3
        )) { try parse(longString) }
    }

    @Test("bad value types, booleans and UTF-8 name their offsets")
    func badValues() throws {
        let badType = onePair(type: 13) { _ in }
        #expect(throws: GGUFError.invalidValue(
            what: "value type of 'k'", offset: badType.offsets["type"] ?? -1, expected: "a GGUF value type 0...12", found: "13"
        )) { try parse(badType) }
        let badBool = onePair(type: 7) { b in b.raw([2], label: "bool") }
        #expect(throws: GGUFError.invalidValue(
            what: "value of 'k'", offset: badBool.offsets["bool"] ?? -1, expected: "a BOOL of 0 or 1", found: "2"
        )) { try parse(badBool) }
        var badKey = GGUFBuilder()
        badKey.header(tensorCount: 0, pairCount: 1)
        badKey.integer(UInt64(2), label: "key")
        badKey.raw([0xC3, 0x28])
        badKey.integer(UInt32(0))
        badKey.raw([1])
        #expect(throws: GGUFError.invalidValue(
            what: "metadata key", offset: 24, expected: "valid UTF-8", found: "2 bytes that are not UTF-8"
        )) { try parse(badKey) }
    }

    @Test("deeply nested arrays are refused instead of recursing without bound")
    func nesting() throws {
        let deep = onePair(type: 9) { b in
            for level in 0..<20 {
                b.integer(UInt32(9), label: "array.\(level)")
                b.integer(UInt64(1))
            }
        }
        #expect(throws: GGUFError.invalidValue(
            what: "array in 'k'", offset: deep.offsets["array.8"] ?? -1,
            expected: "arrays nested at most 8 deep", found: "deeper nesting"
        )) { try parse(deep) }
    }

    @Test("duplicate keys and tensor names are refused at their second occurrence")
    func duplicates() throws {
        var keys = GGUFBuilder()
        keys.header(tensorCount: 0, pairCount: 2)
        for index in 0..<2 {
            keys.string("k", label: "pair.\(index)")
            keys.integer(UInt32(0))
            keys.raw([1])
        }
        #expect(throws: GGUFError.duplicateKey("k", offset: keys.offsets["pair.1"] ?? -1)) { try parse(keys) }
        var tensors = GGUFBuilder()
        tensors.header(tensorCount: 2, pairCount: 0)
        tensors.tensorInfo(name: "t", dimensions: [1], typeID: 0, offset: 0, label: "t0")
        tensors.tensorInfo(name: "t", dimensions: [1], typeID: 0, offset: 32, label: "t1")
        tensors.pad(to: 32)
        tensors.raw(Array(repeating: 0, count: 64))
        #expect(throws: GGUFError.duplicateTensor("t", offset: tensors.offsets["t1"] ?? -1)) { try parse(tensors) }
    }

    @Test("general.alignment must be a UINT32 power of two")
    func alignment() throws {
        let notPowerOfTwo = onePair(key: "general.alignment", type: 4) { b in b.integer(UInt32(48)) }
        #expect(throws: GGUFError.invalidValue(
            what: "value of 'general.alignment'", offset: 24, expected: "a power of two", found: "48"
        )) { try parse(notPowerOfTwo) }
        let wrongType = onePair(key: "general.alignment", type: 10) { b in b.integer(UInt64(32)) }
        #expect(throws: GGUFError.invalidValue(
            what: "value of 'general.alignment'", offset: 24, expected: "UINT32", found: "UINT64"
        )) { try parse(wrongType) }
    }

    /// A file with one tensor info record and `dataBytes` bytes of data after the aligned header.
    private func oneTensor(dimensions: [UInt64], typeID: UInt32, offset: UInt64 = 0, dataBytes: Int) -> GGUFBuilder {
        var b = GGUFBuilder()
        b.header(tensorCount: 1, pairCount: 0)
        b.tensorInfo(name: "w", dimensions: dimensions, typeID: typeID, offset: offset, label: "w")
        b.pad(to: 32)
        b.raw(Array(repeating: 0x11, count: dataBytes))
        return b
    }

    @Test("tensor records: dimensions, types, offsets and data bounds are checked")
    func tensorRecords() throws {
        let fiveDims = oneTensor(dimensions: [1, 1, 1, 1, 1], typeID: 0, dataBytes: 4)
        #expect(throws: GGUFError.invalidValue(
            what: "dimension count of tensor 'w'", offset: fiveDims.offsets["w.n_dims"] ?? -1,
            expected: "at most 4", found: "5"
        )) { try parse(fiveDims) }
        let unknown = oneTensor(dimensions: [32], typeID: 99, dataBytes: 64)
        #expect(throws: GGUFError.unknownTensorType(tensor: "w", typeID: 99, offset: unknown.offsets["w.type"] ?? -1)) {
            try parse(unknown)
        }
        let partialBlock = oneTensor(dimensions: [33], typeID: GGMLType.q8_0.rawValue, dataBytes: 68)
        #expect(throws: GGUFError.invalidValue(
            what: "row length (dimension 0) of tensor 'w'", offset: partialBlock.offsets["w"] ?? -1,
            expected: "a multiple of Q8_0's block size 32", found: "33"
        )) { try parse(partialBlock) }
        let misaligned = oneTensor(dimensions: [4], typeID: 0, offset: 4, dataBytes: 32)
        #expect(throws: GGUFError.invalidValue(
            what: "data offset of tensor 'w'", offset: misaligned.offsets["w.offset"] ?? -1,
            expected: "a multiple of the alignment 32", found: "4"
        )) { try parse(misaligned) }
        let short = oneTensor(dimensions: [256, 2], typeID: GGMLType.q4_K.rawValue, dataBytes: 287)
        #expect(throws: GGUFError.tensorOutOfBounds(
            tensor: "w", infoOffset: short.offsets["w"] ?? -1, start: 96, byteCount: 288, fileSize: 96 + 287
        )) { try parse(short) }
        let farOffset = oneTensor(dimensions: [8], typeID: 0, offset: UInt64.max - 31, dataBytes: 32)
        #expect(throws: GGUFError.tensorOutOfBounds(
            tensor: "w", infoOffset: farOffset.offsets["w"] ?? -1, start: .max, byteCount: 32, fileSize: 96
        )) { try parse(farOffset) }
        let overflow = oneTensor(dimensions: [1 << 40, 1 << 30], typeID: 0, dataBytes: 32)
        #expect(throws: GGUFError.invalidValue(
            what: "shape of tensor 'w'", offset: overflow.offsets["w"] ?? -1,
            expected: "a size that fits in 63 bits", found: "1099511627776×1073741824"
        )) { try parse(overflow) }
    }

    @Test("a zero dimension does not hide an overflowing product of the others")
    func zeroDimension() throws {
        let hidden = oneTensor(dimensions: [0, 1 << 62, 1 << 62], typeID: 0, dataBytes: 0)
        #expect(throws: GGUFError.invalidValue(
            what: "shape of tensor 'w'", offset: hidden.offsets["w"] ?? -1,
            expected: "a size that fits in 63 bits", found: "0×4611686018427387904×4611686018427387904"
        )) { try parse(hidden) }
        let empty = try parse(oneTensor(dimensions: [0, 3], typeID: 0, dataBytes: 0))
        #expect(empty.tensors.first?.byteCount == 0)
        #expect(empty.tensors.first?.rowCount == 3)
    }

    @Test("a known ggml type without Sparrow kernels still reads, with its layout and no GGMLType")
    func unsupportedButKnownType() throws {
        // IQ2_XXS: 256 values in 66 bytes.
        let file = try parse(oneTensor(dimensions: [256, 2], typeID: 16, dataBytes: 132))
        let info = try #require(file.tensors.first)
        #expect(info.type.name == "IQ2_XXS")
        #expect(info.type.ggmlType == nil)
        #expect(info.byteCount == 132)
    }

    @Test("missing files and directories are open errors naming the path")
    func openErrors() throws {
        let missing = URL(fileURLWithPath: "/nonexistent/model.gguf")
        #expect(throws: GGUFError.cannotOpen(path: missing.path, reason: "No such file or directory")) {
            try GGUFFile(contentsOf: missing)
        }
        #expect(throws: GGUFError.cannotOpen(path: fixturesDirectory.path, reason: "not a regular file")) {
            try GGUFFile(contentsOf: fixturesDirectory)
        }
    }
}
