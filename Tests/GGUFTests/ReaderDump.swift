import Foundation
import GGUF

/// What gguf-py's GGUFReader read from a file, as printed by Scripts/fixtures/gguf-reader-dump.py.
struct ReaderDump: Decodable {
    struct Field: Decodable {
        let key: String
        let types: [String]
        let value: JSONLeaf
    }

    struct Tensor: Decodable {
        let name: String
        let type: String
        let shape: [Int]
        let offset: Int
        let bytes: Int
        let head: String
        let tail: String
    }

    let version: Int
    let alignment: Int
    let dataOffset: Int
    let metadata: [Field]
    let tensors: [Tensor]

    enum CodingKeys: String, CodingKey {
        case version, alignment, dataOffset = "data_offset", metadata, tensors
    }

    static func load(_ url: URL) throws -> ReaderDump {
        try JSONDecoder().decode(ReaderDump.self, from: Data(contentsOf: url))
    }
}

/// A JSON value as gguf-py's `ReaderField.contents()` gives it: a scalar, or a flat list (gguf-py flattens
/// nested arrays).
enum JSONLeaf: Decodable, Equatable, CustomStringConvertible {
    case bool(Bool)
    case signed(Int64)
    case unsigned(UInt64)
    case number(Double)
    case string(String)
    case list([JSONLeaf])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .signed(value)
        } else if let value = try? container.decode(UInt64.self) {
            self = .unsigned(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else {
            self = .list(try container.decode([JSONLeaf].self))
        }
    }

    var description: String {
        switch self {
        case .bool(let v): "\(v)"
        case .signed(let v): "\(v)"
        case .unsigned(let v): "\(v)"
        case .number(let v): "\(v)"
        case .string(let v): "\"\(v)\""
        case .list(let v): "[\(v.count) items]"
        }
    }

    /// Numeric equality across JSON's number spellings (python writes 1.0 for a float equal to an integer).
    func matches(_ other: JSONLeaf) -> Bool {
        switch (self, other) {
        case (.list(let a), .list(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.matches($1) }
        case (.bool(let a), .bool(let b)): return a == b
        case (.string(let a), .string(let b)): return a == b
        default:
            if let a = exactInteger, let b = other.exactInteger { return a == b }
            if let a = doubleValue, let b = other.doubleValue { return a == b }
            return false
        }
    }

    private var exactInteger: Int128? {
        switch self {
        case .signed(let v): Int128(v)
        case .unsigned(let v): Int128(v)
        default: nil
        }
    }

    private var doubleValue: Double? {
        switch self {
        case .number(let v): v
        case .signed(let v): Double(v)
        case .unsigned(let v): Double(v)
        default: nil
        }
    }
}

/// The chain of type names gguf-py records for a value (`["ARRAY", "ARRAY", "INT32"]`) and its contents in
/// gguf-py's flattened form, computed from Sparrow's reading.
func readerView(of value: GGUFValue) -> (types: [String], contents: JSONLeaf) {
    switch value {
    case .array(let array):
        var types = ["ARRAY"]
        var leaves: [JSONLeaf] = []
        flatten(array, types: &types, leaves: &leaves, recordTypes: true)
        return (types, .list(leaves))
    default:
        return ([value.type.name], leaf(value))
    }
}

private func flatten(_ array: GGUFArray, types: inout [String], leaves: inout [JSONLeaf], recordTypes: Bool) {
    // gguf-py records the element types of the first element only.
    if recordTypes { types.append(array.elementType.name) }
    for index in 0..<array.count {
        guard let element = array.element(index) else { continue }
        if case .array(let inner) = element {
            flatten(inner, types: &types, leaves: &leaves, recordTypes: recordTypes && index == 0)
        } else {
            leaves.append(leaf(element))
        }
    }
}

private func leaf(_ value: GGUFValue) -> JSONLeaf {
    switch value {
    case .uint8(let v): .unsigned(UInt64(v))
    case .uint16(let v): .unsigned(UInt64(v))
    case .uint32(let v): .unsigned(UInt64(v))
    case .uint64(let v): .unsigned(v)
    case .int8(let v): .signed(Int64(v))
    case .int16(let v): .signed(Int64(v))
    case .int32(let v): .signed(Int64(v))
    case .int64(let v): .signed(v)
    case .float32(let v): .number(Double(v))
    case .float64(let v): .number(v)
    case .bool(let v): .bool(v)
    case .string(let v): .string(v)
    case .array: .list([])
    }
}

/// Hex of `bytes`, lower case, as python's `bytes.hex()`.
func hex(_ bytes: some Sequence<UInt8>) -> String {
    bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
}

/// The folder of committed fixtures beside these tests.
let fixturesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

/// `$SPARROW_CACHE`, else `${XDG_CACHE_HOME:-$HOME/.cache}/sparrow` (the cache convention of Scripts/setup).
var sparrowCache: URL {
    let environment = ProcessInfo.processInfo.environment
    if let cache = environment["SPARROW_CACHE"], !cache.isEmpty { return URL(fileURLWithPath: cache) }
    let base = environment["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 }
        ?? (NSHomeDirectory() + "/.cache")
    return URL(fileURLWithPath: base).appendingPathComponent("sparrow")
}

/// The repository root (two levels above this folder).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()
