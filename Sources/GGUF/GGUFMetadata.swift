/// The key/value metadata of a GGUF file, in file order, with lookup by key.
public struct GGUFMetadata: Sendable, Equatable {
    /// One key/value pair.
    public struct Entry: Sendable, Equatable {
        /// The key (`general.architecture`).
        public let key: String
        /// The value.
        public let value: GGUFValue
        /// Byte offset of the pair in the file (0 for metadata built in memory).
        public let offset: Int
    }

    /// Every pair, in file order.
    public let entries: [Entry]
    private let index: [String: Int]

    /// Metadata from `entries`; keys must be unique (the reader checks this before building it).
    init(entries: [Entry], index: [String: Int]) {
        self.entries = entries
        self.index = index
    }

    /// Number of keys.
    public var count: Int { entries.count }

    /// All keys in file order.
    public var keys: [String] { entries.map(\.key) }

    /// The value of `key`, or nil when absent.
    public subscript(key: String) -> GGUFValue? {
        index[key].map { entries[$0].value }
    }

    /// The string value of `key`; throws when it is absent or not a string.
    public func string(_ key: String) throws -> String {
        let value = try required(key)
        guard let text = value.stringValue else {
            throw GGUFError.metadataType(key: key, expected: "STRING", found: value.type.name)
        }
        return text
    }

    /// The integer value of `key` (any integer width); throws when absent, not an integer or too large.
    public func integer(_ key: String) throws -> Int {
        let value = try required(key)
        guard let number = value.integerValue else {
            if case .uint64(let big) = value {
                throw GGUFError.metadataType(key: key, expected: "an integer", found: "UINT64 \(big), too large")
            }
            throw GGUFError.metadataType(key: key, expected: "an integer", found: value.type.name)
        }
        return number
    }

    /// The integer value of `key`, or nil when absent; throws when present but not an integer.
    public func optionalInteger(_ key: String) throws -> Int? {
        guard index[key] != nil else { return nil }
        return try integer(key)
    }

    /// The numeric value of `key` as a Double (integers and floats); throws when absent or not a number.
    public func double(_ key: String) throws -> Double {
        let value = try required(key)
        guard let number = value.doubleValue else {
            throw GGUFError.metadataType(key: key, expected: "a number", found: value.type.name)
        }
        return number
    }

    /// The array value of `key`; throws when absent or not an array.
    public func array(_ key: String) throws -> GGUFArray {
        let value = try required(key)
        guard let array = value.arrayValue else {
            throw GGUFError.metadataType(key: key, expected: "ARRAY", found: value.type.name)
        }
        return array
    }

    private func required(_ key: String) throws -> GGUFValue {
        guard let position = index[key] else { throw GGUFError.metadataMissing(key: key) }
        return entries[position].value
    }
}
