/// A bounds-checked little-endian reader over a GGUF file's bytes. Every read checks the remaining length first,
/// with arithmetic that cannot overflow, and reports the offset of the field it could not read.
struct ByteCursor {
    let bytes: UnsafeRawBufferPointer
    /// Absolute offset of the next byte to read.
    private(set) var offset: Int = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var remaining: Int { bytes.count - offset }

    /// Checks that `count` bytes of `what` are available at the current offset.
    func require(_ count: Int, _ what: String) throws {
        guard count >= 0, count <= remaining else {
            throw GGUFError.truncated(what: what, offset: offset, needed: count, fileSize: bytes.count)
        }
    }

    mutating func skip(_ count: Int, _ what: String) throws {
        try require(count, what)
        offset += count
    }

    mutating func read<T: FixedWidthInteger>(_: T.Type, _ what: String) throws -> T {
        let size = MemoryLayout<T>.size
        try require(size, what)
        let value = bytes.loadUnaligned(fromByteOffset: offset, as: T.self)
        offset += size
        return T(littleEndian: value)
    }

    mutating func readFloat(_ what: String) throws -> Float {
        Float(bitPattern: try read(UInt32.self, what))
    }

    mutating func readDouble(_ what: String) throws -> Double {
        Double(bitPattern: try read(UInt64.self, what))
    }

    /// Reads a count stored as u64 and checks that `count × minimumElementSize` bytes can still follow, so no
    /// caller ever reserves memory for more elements than the file could hold.
    mutating func readCount(_ what: String, minimumElementSize: Int) throws -> Int {
        let start = offset
        let raw = try read(UInt64.self, what)
        let limit = UInt64(remaining / max(minimumElementSize, 1))
        guard raw <= limit else {
            throw GGUFError.countTooLarge(what: what, count: raw, offset: start, limit: limit)
        }
        return Int(raw)
    }

    /// Reads a GGUF string: a u64 byte length, then that many bytes of UTF-8 (no terminator).
    mutating func readString(_ what: String) throws -> String {
        let start = offset
        let length = try readCount("length of \(what)", minimumElementSize: 1)
        let slice = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)])
        guard let text = String(validating: slice, as: UTF8.self) else {
            throw GGUFError.invalidValue(
                what: what, offset: start, expected: "valid UTF-8", found: "\(length) bytes that are not UTF-8"
            )
        }
        offset += length
        return text
    }

    /// Moves to the next multiple of `alignment` (a power of two), checking the padding lies inside the file.
    mutating func align(to alignment: Int, _ what: String) throws {
        let padding = (alignment - offset % alignment) % alignment
        try skip(padding, what)
    }
}
