public import Foundation

/// What `sparrow model info` reports about a GGUF file: architecture, parameter count, file size, metadata (long
/// arrays summarised), tensors with their types and shapes, tensor counts by type, and for mixture-of-experts
/// models the expert count and the experts used per token.
public struct GGUFModelSummary: Sendable, Encodable {
    /// Arrays longer than this are summarised by their length and first elements.
    public static let arrayPreviewLimit = 8

    /// A metadata value prepared for display.
    public enum Value: Sendable, Encodable, Equatable {
        case integer(Int64)
        case unsigned(UInt64)
        case number(Double)
        /// A FLOAT32, kept apart so text shows its shortest float form (1e-05, not 9.999999747378752e-06).
        case float(Float)
        case bool(Bool)
        case string(String)
        case list([Value])
        /// A long array: its element type, length and first elements.
        case summary(elementType: String, count: Int, first: [Value])

        /// Encodes scalars and lists as plain JSON values and a summary as
        /// `{"element_type": …, "count": …, "first": […]}`.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .integer(let v): try container.encode(v)
            case .unsigned(let v): try container.encode(v)
            case .number(let v): try container.encode(v)
            case .float(let v): try container.encode(Double(v))
            case .bool(let v): try container.encode(v)
            case .string(let v): try container.encode(v)
            case .list(let v): try container.encode(v)
            case .summary(let elementType, let count, let first):
                try container.encode(ArraySummary(elementType: elementType, count: count, first: first))
            }
        }

        private struct ArraySummary: Encodable {
            let elementType: String
            let count: Int
            let first: [Value]
            enum CodingKeys: String, CodingKey {
                case elementType = "element_type", count, first
            }
        }
    }

    /// One metadata pair.
    public struct MetadataEntry: Sendable, Encodable {
        /// The key.
        public let key: String
        /// gguf-py's name of the value type (`UINT32`, `ARRAY`).
        public let type: String
        /// The value, long arrays summarised.
        public let value: Value
    }

    /// One tensor.
    public struct Tensor: Sendable, Encodable {
        /// The tensor's name.
        public let name: String
        /// The ggml type name (`Q4_K`).
        public let type: String
        /// Dimensions in ggml order (`ne[0]` first), as gguf-py's `ReaderTensor.shape` lists them.
        public let shape: [Int]
        /// Absolute byte offset of the data.
        public let offset: Int
        /// Bytes of data.
        public let bytes: Int
    }

    /// Size of the file in bytes.
    public let fileSize: Int
    /// GGUF version.
    public let version: UInt32
    /// Data alignment.
    public let alignment: Int
    /// `general.architecture`, when present.
    public let architecture: String?
    /// `general.name`, when present.
    public let name: String?
    /// Sum of the element counts of all tensors.
    public let parameterCount: Int
    /// `<arch>.expert_count`, when present (MoE models).
    public let expertCount: Int?
    /// `<arch>.expert_used_count`, when present (MoE models).
    public let expertUsedCount: Int?
    /// Number of tensors of each type name.
    public let tensorCountsByType: [String: Int]
    /// Metadata pairs in file order.
    public let metadata: [MetadataEntry]
    /// Tensors in file order.
    public let tensors: [Tensor]

    enum CodingKeys: String, CodingKey {
        case fileSize = "file_size", version, alignment, architecture, name
        case parameterCount = "parameter_count", expertCount = "expert_count", expertUsedCount = "expert_used_count"
        case tensorCountsByType = "tensor_counts_by_type", metadata, tensors
    }

    /// Summarises `file`; throws when the expert keys are present but are not integers, or when the tensors'
    /// element counts add up past `Int.max`.
    public init(_ file: GGUFFile) throws {
        fileSize = file.fileSize
        version = file.version
        alignment = file.alignment
        let meta = file.metadata
        architecture = meta["general.architecture"]?.stringValue
        name = meta["general.name"]?.stringValue
        // Tensors may share data, so their element counts are not bounded by the file size: add with a check.
        var parameters = 0
        for tensor in file.tensors {
            let (sum, overflow) = parameters.addingReportingOverflow(tensor.elementCount)
            guard !overflow else {
                throw GGUFError.invalidValue(
                    what: "shape of tensor '\(tensor.name)'", offset: tensor.infoOffset,
                    expected: "a total parameter count that fits in 63 bits", found: "an overflowing total"
                )
            }
            parameters = sum
        }
        parameterCount = parameters
        if let architecture {
            expertCount = try meta.optionalInteger("\(architecture).expert_count")
            expertUsedCount = try meta.optionalInteger("\(architecture).expert_used_count")
        } else {
            expertCount = nil
            expertUsedCount = nil
        }
        tensorCountsByType = file.tensors.reduce(into: [:]) { $0[$1.type.name, default: 0] += 1 }
        metadata = meta.entries.map { MetadataEntry(key: $0.key, type: $0.value.type.name, value: Self.display($0.value)) }
        tensors = file.tensors.map {
            Tensor(name: $0.name, type: $0.type.name, shape: $0.dimensions, offset: $0.absoluteOffset, bytes: $0.byteCount)
        }
    }

    /// The summary as one JSON document (sorted keys; NaN and infinities as strings).
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan"
        )
        return try encoder.encode(self)
    }

    /// A human-readable report.
    public func text() -> String {
        var lines: [String] = []
        lines.append("architecture: \(architecture ?? "(none)")")
        if let name { lines.append("name: \(name)") }
        lines.append("parameters: \(parameterCount) (\(Self.scaled(Double(parameterCount), units: ["", "K", "M", "B", "T"], base: 1000)))")
        lines.append("file size: \(fileSize) bytes (\(Self.scaled(Double(fileSize), units: ["B", "KiB", "MiB", "GiB", "TiB"], base: 1024)))")
        lines.append("GGUF version: \(version), alignment: \(alignment)")
        if let expertCount {
            lines.append("experts: \(expertCount), used per token: \(expertUsedCount.map(String.init) ?? "(not set)")")
        }
        let counts = tensorCountsByType.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        lines.append("tensors: \(tensors.count) (" + counts.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + ")")
        lines.append("metadata (\(metadata.count) keys):")
        for entry in metadata { lines.append("  \(entry.key) [\(entry.type)] = \(Self.render(entry.value))") }
        lines.append("tensors:")
        let width = tensors.map(\.name.count).max() ?? 0
        for tensor in tensors {
            let padding = String(repeating: " ", count: width - tensor.name.count)
            let shape = "[" + tensor.shape.map(String.init).joined(separator: ", ") + "]"
            lines.append("  \(tensor.name)\(padding)  \(tensor.type.padding(toLength: 7, withPad: " ", startingAt: 0)) \(shape)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func display(_ value: GGUFValue) -> Value {
        switch value {
        case .uint8(let v): .unsigned(UInt64(v))
        case .uint16(let v): .unsigned(UInt64(v))
        case .uint32(let v): .unsigned(UInt64(v))
        case .uint64(let v): .unsigned(v)
        case .int8(let v): .integer(Int64(v))
        case .int16(let v): .integer(Int64(v))
        case .int32(let v): .integer(Int64(v))
        case .int64(let v): .integer(v)
        case .float32(let v): .float(v)
        case .float64(let v): .number(v)
        case .bool(let v): .bool(v)
        case .string(let v): .string(v)
        case .array(let array):
            if array.count <= arrayPreviewLimit {
                .list((0..<array.count).compactMap { array.element($0).map(display) })
            } else {
                .summary(
                    elementType: array.elementType.name, count: array.count,
                    first: (0..<arrayPreviewLimit).compactMap { array.element($0).map(display) }
                )
            }
        }
    }

    static func render(_ value: Value) -> String {
        switch value {
        case .integer(let v): String(v)
        case .unsigned(let v): String(v)
        case .number(let v): String(v)
        case .float(let v): String(v)
        case .bool(let v): String(v)
        case .string(let v): quoted(v)
        case .list(let items): "[" + items.map(render).joined(separator: ", ") + "]"
        case .summary(let elementType, let count, let first):
            "[\(elementType) × \(count)] " + first.map(render).joined(separator: ", ") + ", …"
        }
    }

    private static func quoted(_ text: String) -> String {
        let limit = 120
        var escaped = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": escaped += "\\n"
            case "\t": escaped += "\\t"
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            default:
                if scalar.value < 0x20 { escaped += "\\u{\(String(scalar.value, radix: 16))}" } else { escaped.unicodeScalars.append(scalar) }
            }
        }
        if escaped.count > limit { escaped = String(escaped.prefix(limit)) + "…(\(text.utf8.count) bytes)" }
        return "\"" + escaped + "\""
    }

    private static func scaled(_ value: Double, units: [String], base: Double) -> String {
        var amount = value
        var unit = 0
        while amount >= base, unit < units.count - 1 {
            amount /= base
            unit += 1
        }
        return unit == 0 ? "\(Int(value)) \(units[0])".trimmingCharacters(in: .whitespaces) : String(format: "%.2f", amount) + " " + units[unit]
    }
}
