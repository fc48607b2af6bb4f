/// Parses the header, metadata and tensor infos of a GGUF v2/v3 file and checks every count, length and offset
/// against the file size before using it (format: ggml's docs/gguf.md; checks after llama.cpp's gguf.cpp).
struct GGUFParser {
    /// Deepest nesting of arrays inside arrays accepted; real files use none, and a bound keeps recursion safe.
    static let maximumArrayDepth = 8
    /// Most dimensions a tensor may have (`GGML_MAX_DIMS`).
    static let maximumDimensions = 4
    /// Alignment when `general.alignment` is absent (`GGUF_DEFAULT_ALIGNMENT`).
    static let defaultAlignment = 32
    static let magic: UInt32 = 0x4655_4747

    struct Result {
        var version: UInt32
        var metadata: GGUFMetadata
        var tensors: [GGUFTensorInfo]
        var alignment: Int
        var dataOffset: Int
    }

    static func parse(_ bytes: UnsafeRawBufferPointer) throws -> Result {
        var cursor = ByteCursor(bytes)
        let magic = try cursor.read(UInt32.self, "magic")
        guard magic == Self.magic else { throw GGUFError.badMagic(found: magic) }
        let version = try cursor.read(UInt32.self, "version")
        guard version == 2 || version == 3 else { throw GGUFError.unsupportedVersion(version, offset: 4) }
        // Smallest records: a tensor info is name length + n_dims + type + offset; a pair is key length + type
        // + one byte. Counts above what the rest of the file could hold are rejected before any allocation.
        let tensorCount = try cursor.readCount("tensor count", minimumElementSize: 8 + 4 + 4 + 8)
        let pairCount = try cursor.readCount("metadata key/value count", minimumElementSize: 8 + 4 + 1)

        var entries: [GGUFMetadata.Entry] = []
        var index: [String: Int] = [:]
        entries.reserveCapacity(pairCount)
        for _ in 0..<pairCount {
            let start = cursor.offset
            let key = try cursor.readString("metadata key")
            let typeOffset = cursor.offset
            let type = try readValueType(&cursor, "value type of '\(key)'", at: typeOffset)
            let value = try readValue(&cursor, type: type, key: key, depth: 0)
            guard index[key] == nil else { throw GGUFError.duplicateKey(key, offset: start) }
            index[key] = entries.count
            entries.append(.init(key: key, value: value, offset: start))
        }
        let metadata = GGUFMetadata(entries: entries, index: index)
        let alignment = try readAlignment(metadata)

        var pending: [(name: String, dims: [Int], type: GGUFTensorType, offset: UInt64, at: Int)] = []
        pending.reserveCapacity(tensorCount)
        var names = Set<String>()
        for _ in 0..<tensorCount {
            let start = cursor.offset
            let name = try cursor.readString("tensor name")
            guard names.insert(name).inserted else { throw GGUFError.duplicateTensor(name, offset: start) }
            let dimsOffset = cursor.offset
            let dimCount = try cursor.read(UInt32.self, "dimension count of tensor '\(name)'")
            guard dimCount <= maximumDimensions else {
                throw GGUFError.invalidValue(
                    what: "dimension count of tensor '\(name)'", offset: dimsOffset,
                    expected: "at most \(maximumDimensions)", found: "\(dimCount)"
                )
            }
            var dims: [Int] = []
            for axis in 0..<Int(dimCount) {
                let at = cursor.offset
                let raw = try cursor.read(UInt64.self, "dimension \(axis) of tensor '\(name)'")
                guard raw <= UInt64(Int64.max) else {
                    throw GGUFError.invalidValue(
                        what: "dimension \(axis) of tensor '\(name)'", offset: at,
                        expected: "at most \(Int64.max)", found: "\(raw)"
                    )
                }
                dims.append(Int(raw))
            }
            let typeOffset = cursor.offset
            let typeID = try cursor.read(UInt32.self, "type of tensor '\(name)'")
            guard let type = GGUFTensorType(id: typeID) else {
                throw GGUFError.unknownTensorType(tensor: name, typeID: typeID, offset: typeOffset)
            }
            let offsetAt = cursor.offset
            let offset = try cursor.read(UInt64.self, "data offset of tensor '\(name)'")
            guard offset % UInt64(alignment) == 0 else {
                throw GGUFError.invalidValue(
                    what: "data offset of tensor '\(name)'", offset: offsetAt,
                    expected: "a multiple of the alignment \(alignment)", found: "\(offset)"
                )
            }
            pending.append((name, dims, type, offset, start))
        }

        // The data section starts at the next multiple of the alignment after the tensor infos. A file without
        // tensors may end before that padding.
        let infosEnd = cursor.offset
        let (paddedEnd, overflow) = infosEnd.addingReportingOverflow((alignment - infosEnd % alignment) % alignment)
        guard !overflow else {
            throw GGUFError.invalidValue(
                what: "data section start", offset: infosEnd, expected: "a representable offset", found: "overflow"
            )
        }
        let dataOffset = paddedEnd

        var tensors: [GGUFTensorInfo] = []
        tensors.reserveCapacity(pending.count)
        for record in pending {
            let byteCount = try tensorByteCount(name: record.name, dims: record.dims, type: record.type, at: record.at)
            let (start, startOverflow) = UInt64(dataOffset).addingReportingOverflow(record.offset)
            let (end, endOverflow) = start.addingReportingOverflow(UInt64(byteCount))
            guard !startOverflow, !endOverflow, end <= UInt64(bytes.count) else {
                throw GGUFError.tensorOutOfBounds(
                    tensor: record.name, infoOffset: record.at,
                    start: startOverflow ? UInt64.max : start, byteCount: UInt64(byteCount), fileSize: bytes.count
                )
            }
            tensors.append(
                GGUFTensorInfo(
                    name: record.name, dimensions: record.dims, type: record.type,
                    relativeOffset: Int(record.offset), absoluteOffset: Int(start), byteCount: byteCount,
                    infoOffset: record.at
                )
            )
        }
        return Result(version: version, metadata: metadata, tensors: tensors, alignment: alignment, dataOffset: dataOffset)
    }

    /// `general.alignment`: a u32 power of two when present (as llama.cpp requires), 32 otherwise.
    private static func readAlignment(_ metadata: GGUFMetadata) throws -> Int {
        let key = "general.alignment"
        guard let entry = metadata.entries.first(where: { $0.key == key }) else { return defaultAlignment }
        guard case .uint32(let value) = entry.value else {
            throw GGUFError.invalidValue(
                what: "value of '\(key)'", offset: entry.offset, expected: "UINT32", found: entry.value.type.name
            )
        }
        guard value > 0, value & (value - 1) == 0 else {
            throw GGUFError.invalidValue(
                what: "value of '\(key)'", offset: entry.offset, expected: "a power of two", found: "\(value)"
            )
        }
        return Int(value)
    }

    /// Bytes of a tensor's data, with every multiplication checked for overflow.
    private static func tensorByteCount(name: String, dims: [Int], type: GGUFTensorType, at: Int) throws -> Int {
        let rowLength = dims.first ?? 1
        guard rowLength % type.blockSize == 0 else {
            throw GGUFError.invalidValue(
                what: "row length (dimension 0) of tensor '\(name)'", offset: at,
                expected: "a multiple of \(type.name)'s block size \(type.blockSize)", found: "\(rowLength)"
            )
        }
        var total = rowLength / type.blockSize
        var overflow = false
        (total, overflow) = total.multipliedReportingOverflow(by: type.bytesPerBlock)
        for dim in dims.dropFirst() where !overflow {
            (total, overflow) = total.multipliedReportingOverflow(by: dim)
        }
        // The element count must fit too (llama.cpp checks it against INT64_MAX), and so must every partial
        // product (row counts, expert slabs), even when another dimension is 0: so multiply by max(dim, 1).
        var elements = 1
        for dim in dims where !overflow {
            (elements, overflow) = elements.multipliedReportingOverflow(by: max(dim, 1))
        }
        guard !overflow else {
            throw GGUFError.invalidValue(
                what: "shape of tensor '\(name)'", offset: at, expected: "a size that fits in 63 bits",
                found: dims.map(String.init).joined(separator: "×")
            )
        }
        return total
    }

    private static func readValueType(_ cursor: inout ByteCursor, _ what: String, at offset: Int) throws -> GGUFValueType {
        let raw = try cursor.read(UInt32.self, what)
        guard let type = GGUFValueType(rawValue: raw) else {
            throw GGUFError.invalidValue(what: what, offset: offset, expected: "a GGUF value type 0...12", found: "\(raw)")
        }
        return type
    }

    private static func readValue(_ cursor: inout ByteCursor, type: GGUFValueType, key: String, depth: Int) throws -> GGUFValue {
        let what = "value of '\(key)'"
        switch type {
        case .uint8: return .uint8(try cursor.read(UInt8.self, what))
        case .int8: return .int8(try cursor.read(Int8.self, what))
        case .uint16: return .uint16(try cursor.read(UInt16.self, what))
        case .int16: return .int16(try cursor.read(Int16.self, what))
        case .uint32: return .uint32(try cursor.read(UInt32.self, what))
        case .int32: return .int32(try cursor.read(Int32.self, what))
        case .float32: return .float32(try cursor.readFloat(what))
        case .uint64: return .uint64(try cursor.read(UInt64.self, what))
        case .int64: return .int64(try cursor.read(Int64.self, what))
        case .float64: return .float64(try cursor.readDouble(what))
        case .bool: return .bool(try readBool(&cursor, what))
        case .string: return .string(try cursor.readString(what))
        case .array: return .array(try readArray(&cursor, key: key, depth: depth + 1))
        }
    }

    private static func readBool(_ cursor: inout ByteCursor, _ what: String) throws -> Bool {
        let at = cursor.offset
        let byte = try cursor.read(UInt8.self, what)
        guard byte <= 1 else {
            throw GGUFError.invalidValue(what: what, offset: at, expected: "a BOOL of 0 or 1", found: "\(byte)")
        }
        return byte == 1
    }

    private static func readArray(_ cursor: inout ByteCursor, key: String, depth: Int) throws -> GGUFArray {
        let start = cursor.offset
        guard depth <= maximumArrayDepth else {
            throw GGUFError.invalidValue(
                what: "array in '\(key)'", offset: start,
                expected: "arrays nested at most \(maximumArrayDepth) deep", found: "deeper nesting"
            )
        }
        let elementType = try readValueType(&cursor, "element type of the array in '\(key)'", at: start)
        let count = try cursor.readCount(
            "element count of the array in '\(key)'", minimumElementSize: elementType.minimumEncodedSize
        )
        let what = "element of the array in '\(key)'"
        func many<T>(_ read: (inout ByteCursor) throws -> T) throws -> [T] {
            var values: [T] = []
            values.reserveCapacity(count)
            for _ in 0..<count { values.append(try read(&cursor)) }
            return values
        }
        switch elementType {
        case .uint8: return .uint8(try many { try $0.read(UInt8.self, what) })
        case .int8: return .int8(try many { try $0.read(Int8.self, what) })
        case .uint16: return .uint16(try many { try $0.read(UInt16.self, what) })
        case .int16: return .int16(try many { try $0.read(Int16.self, what) })
        case .uint32: return .uint32(try many { try $0.read(UInt32.self, what) })
        case .int32: return .int32(try many { try $0.read(Int32.self, what) })
        case .float32: return .float32(try many { try $0.readFloat(what) })
        case .uint64: return .uint64(try many { try $0.read(UInt64.self, what) })
        case .int64: return .int64(try many { try $0.read(Int64.self, what) })
        case .float64: return .float64(try many { try $0.readDouble(what) })
        case .bool: return .bool(try many { try readBool(&$0, what) })
        case .string: return .string(try many { try $0.readString(what) })
        case .array: return .array(try many { try readArray(&$0, key: key, depth: depth + 1) })
        }
    }
}
