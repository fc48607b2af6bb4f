public import Foundation

/// Writes GGUF v3 (or v2, same layout) files for tests and tools: metadata in insertion order, then tensor
/// infos, then tensor data, each tensor aligned to `alignment` as llama.cpp and gguf-py lay them out.
public struct GGUFWriter: Sendable {
    /// The version number written in the header (2 or 3).
    public var version: UInt32
    /// Data alignment; written as `general.alignment` (first, unless set explicitly with the same value where
    /// the caller wants it) when it differs from the default 32.
    public let alignment: Int
    private var entries: [(key: String, value: GGUFValue)] = []
    private var tensors: [(name: String, dimensions: [Int], type: GGUFTensorType, data: Data)] = []

    /// A writer for version `version` with data aligned to `alignment` (a power of two).
    public init(version: UInt32 = 3, alignment: Int = 32) throws {
        guard version == 2 || version == 3 else { throw GGUFError.invalidWrite("version must be 2 or 3, not \(version)") }
        guard alignment > 0, alignment & (alignment - 1) == 0, alignment <= Int(UInt32.max) else {
            throw GGUFError.invalidWrite("alignment must be a power of two, not \(alignment)")
        }
        self.version = version
        self.alignment = alignment
    }

    /// Adds a metadata pair; keys must be unique.
    public mutating func set(_ key: String, _ value: GGUFValue) throws {
        guard !entries.contains(where: { $0.key == key }) else { throw GGUFError.invalidWrite("duplicate key '\(key)'") }
        if key == "general.alignment", value != .uint32(UInt32(alignment)) {
            throw GGUFError.invalidWrite("general.alignment must be UINT32 \(alignment), the writer's alignment")
        }
        entries.append((key, value))
    }

    /// Adds a tensor whose `data` holds exactly the bytes its shape and type need.
    public mutating func addTensor(name: String, dimensions: [Int], type: GGUFTensorType, data: Data) throws {
        guard !tensors.contains(where: { $0.name == name }) else { throw GGUFError.invalidWrite("duplicate tensor '\(name)'") }
        guard dimensions.count <= 4, dimensions.allSatisfy({ $0 >= 0 }) else {
            throw GGUFError.invalidWrite("tensor '\(name)' needs 0 to 4 non-negative dimensions, got \(dimensions)")
        }
        let rowLength = dimensions.first ?? 1
        guard rowLength % type.blockSize == 0 else {
            throw GGUFError.invalidWrite("tensor '\(name)': row length \(rowLength) is not a multiple of \(type.name)'s block size \(type.blockSize)")
        }
        let expected = dimensions.dropFirst().reduce(rowLength / type.blockSize * type.bytesPerBlock, *)
        guard data.count == expected else {
            throw GGUFError.invalidWrite("tensor '\(name)' of type \(type.name) and shape \(dimensions) needs \(expected) bytes, got \(data.count)")
        }
        tensors.append((name, dimensions, type, data))
    }

    /// The complete file.
    public func serialized() -> Data {
        var out = Data()
        out.appendLE(UInt32(0x4655_4747))
        out.appendLE(version)
        out.appendLE(UInt64(tensors.count))
        var pairs = entries
        if alignment != 32, !pairs.contains(where: { $0.key == "general.alignment" }) { pairs.insert(("general.alignment", .uint32(UInt32(alignment))), at: 0) }
        out.appendLE(UInt64(pairs.count))
        for (key, value) in pairs {
            out.appendString(key)
            out.appendLE(value.type.rawValue)
            out.appendValue(value)
        }
        var offset = 0
        var offsets: [Int] = []
        for tensor in tensors {
            offsets.append(offset)
            offset += Self.padded(tensor.data.count, to: alignment)
        }
        for (tensor, start) in zip(tensors, offsets) {
            out.appendString(tensor.name)
            out.appendLE(UInt32(tensor.dimensions.count))
            for dim in tensor.dimensions { out.appendLE(UInt64(dim)) }
            out.appendLE(tensor.type.id)
            out.appendLE(UInt64(start))
        }
        out.append(Data(count: Self.padded(out.count, to: alignment) - out.count))
        for tensor in tensors {
            out.append(tensor.data)
            out.append(Data(count: Self.padded(tensor.data.count, to: alignment) - tensor.data.count))
        }
        return out
    }

    /// Writes the file to `url` (replacing it).
    public func write(to url: URL) throws {
        try serialized().write(to: url, options: .atomic)
    }

    private static func padded(_ count: Int, to alignment: Int) -> Int {
        count + (alignment - count % alignment) % alignment
    }
}

extension Data {
    fileprivate mutating func appendLE<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    fileprivate mutating func appendString(_ text: String) {
        appendLE(UInt64(text.utf8.count))
        append(contentsOf: Array(text.utf8))
    }

    fileprivate mutating func appendValue(_ value: GGUFValue) {
        switch value {
        case .uint8(let v): appendLE(v)
        case .int8(let v): appendLE(v)
        case .uint16(let v): appendLE(v)
        case .int16(let v): appendLE(v)
        case .uint32(let v): appendLE(v)
        case .int32(let v): appendLE(v)
        case .float32(let v): appendLE(v.bitPattern)
        case .bool(let v): appendLE(UInt8(v ? 1 : 0))
        case .string(let v): appendString(v)
        case .uint64(let v): appendLE(v)
        case .int64(let v): appendLE(v)
        case .float64(let v): appendLE(v.bitPattern)
        case .array(let array): appendArray(array)
        }
    }

    fileprivate mutating func appendArray(_ array: GGUFArray) {
        appendLE(array.elementType.rawValue)
        appendLE(UInt64(array.count))
        for index in 0..<array.count {
            if let element = array.element(index) { appendValue(element) }
        }
    }
}
