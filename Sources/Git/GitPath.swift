/// A path inside a repository, as the raw bytes git stores (git paths need not be UTF-8).
///
/// `description` decodes the bytes as UTF-8, replacing invalid sequences, for messages; compare and look up paths
/// by `bytes`.
public struct GitPath: Sendable, Hashable, Comparable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The path's bytes, `/`-separated, relative to the repository root, without a trailing NUL.
    public var bytes: [UInt8]

    /// A path from raw bytes.
    public init(bytes: [UInt8]) { self.bytes = bytes }

    /// A path from a string, stored as its UTF-8 bytes.
    public init(_ string: String) { bytes = Array(string.utf8) }

    public init(stringLiteral value: String) { self.init(value) }

    /// The path decoded as UTF-8, with invalid bytes replaced by U+FFFD.
    public var description: String { String(decoding: bytes, as: UTF8.self) }

    /// The path as a string when its bytes are valid UTF-8, else nil.
    public var string: String? {
        let decoded = String(decoding: bytes, as: UTF8.self)
        return Array(decoded.utf8) == bytes ? decoded : nil
    }

    public static func < (lhs: GitPath, rhs: GitPath) -> Bool { lhs.bytes.lexicographicallyPrecedes(rhs.bytes) }

    /// Calls `body` with the path as a NUL-terminated C string (libgit2's form).
    func withCString<T>(_ body: (UnsafePointer<CChar>) throws -> T) rethrows -> T {
        let terminated = bytes.map { CChar(bitPattern: $0) } + [0]
        return try terminated.withUnsafeBufferPointer { buffer in
            // A non-empty array's base address always exists.
            guard let base = buffer.baseAddress else { return try "".withCString(body) }
            return try body(base)
        }
    }

    /// A path from a NUL-terminated C string, or nil for a null pointer.
    init?(cString: UnsafePointer<CChar>?) {
        guard let cString else { return nil }
        var length = 0
        while cString[length] != 0 { length += 1 }
        bytes = UnsafeBufferPointer(start: cString, count: length).map { UInt8(bitPattern: $0) }
    }
}
