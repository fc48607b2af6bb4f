/// A tree entry's mode, as git stores it (`100644`, `100755`, `120000`, `160000`, `040000`).
public struct FileMode: Sendable, Hashable, CustomStringConvertible {
    /// The octal mode value.
    public var rawValue: UInt32

    /// A mode from its numeric value.
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// No entry (the old side of an added file, the new side of a deleted one).
    public static let none = FileMode(rawValue: 0)
    /// A regular, non-executable file.
    public static let regular = FileMode(rawValue: 0o100644)
    /// An executable file.
    public static let executable = FileMode(rawValue: 0o100755)
    /// A symbolic link; the blob holds the target.
    public static let symlink = FileMode(rawValue: 0o120000)
    /// A submodule entry (gitlink): the id is a commit of another repository.
    public static let gitlink = FileMode(rawValue: 0o160000)
    /// A subdirectory.
    public static let tree = FileMode(rawValue: 0o040000)

    /// The six-digit octal form git prints, e.g. `100644`.
    public var description: String {
        let digits = String(rawValue, radix: 8)
        return String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }
}
