/// The changes between two commits: one `FileDiff` per changed path, in libgit2's order (by path).
public struct Diff: Sendable, Hashable {
    /// The changed files.
    public var files: [FileDiff]

    /// Creates a diff from its files.
    public init(files: [FileDiff]) { self.files = files }

    /// The file whose new path (or old path, for a deletion) is `path`, if any.
    public func file(_ path: GitPath) -> FileDiff? { files.first { $0.path == path } }
}

/// The change to one file.
public struct FileDiff: Sendable, Hashable {
    /// How the file changed.
    public enum Status: String, Sendable, Hashable {
        /// The file is new.
        case added
        /// The file was removed.
        case deleted
        /// The content or mode changed in place.
        case modified
        /// The file moved (possibly with edits); see `similarity`.
        case renamed
        /// The file was copied from another (only with copy detection, which is off by default).
        case copied
        /// The entry changed kind (file ↔ symlink ↔ submodule).
        case typeChanged
    }

    /// How the file changed.
    public var status: Status
    /// The path before the change; nil for an added file.
    public var oldPath: GitPath?
    /// The path after the change; nil for a deleted file.
    public var newPath: GitPath?
    /// The mode before (`.none` for an added file).
    public var oldMode: FileMode
    /// The mode after (`.none` for a deleted file).
    public var newMode: FileMode
    /// The blob (or submodule commit) before; nil for an added file.
    public var oldID: ObjectID?
    /// The blob (or submodule commit) after; nil for a deleted file.
    public var newID: ObjectID?
    /// For renames and copies, how similar the two sides are, 0–100 (git's "similarity index").
    public var similarity: Int?
    /// True when either side is binary (a NUL byte in its first 8,000 bytes, as git decides, or a `binary`
    /// attribute, or larger than `DiffOptions.bigFileThreshold`). Binary files have no hunks.
    public var isBinary: Bool
    /// The hunks of a text change, in file order.
    public var hunks: [Hunk]

    /// The path to report the change under: the new path, or the old one for a deletion.
    public var path: GitPath { newPath ?? oldPath ?? GitPath(bytes: []) }

    /// True when both sides exist and their modes differ (e.g. a file became executable).
    public var modeChanged: Bool { oldMode != .none && newMode != .none && oldMode != newMode }

    /// Creates a file change.
    public init(
        status: Status, oldPath: GitPath?, newPath: GitPath?, oldMode: FileMode, newMode: FileMode,
        oldID: ObjectID?, newID: ObjectID?, similarity: Int?, isBinary: Bool, hunks: [Hunk]
    ) {
        self.status = status
        self.oldPath = oldPath
        self.newPath = newPath
        self.oldMode = oldMode
        self.newMode = newMode
        self.oldID = oldID
        self.newID = newID
        self.similarity = similarity
        self.isBinary = isBinary
        self.hunks = hunks
    }

    /// The new-side line numbers this change added (what review findings anchor to).
    public var addedLineNumbers: [Int] {
        hunks.flatMap { $0.lines.compactMap { $0.kind == .added ? $0.newLineNumber : nil } }
    }
}

/// One hunk: a run of changed lines with their context.
public struct Hunk: Sendable, Hashable {
    /// The first old line the hunk covers (1-based; 0 when it covers no old line).
    public var oldStart: Int
    /// How many old lines the hunk covers.
    public var oldCount: Int
    /// The first new line the hunk covers (1-based; 0 when it covers no new line).
    public var newStart: Int
    /// How many new lines the hunk covers.
    public var newCount: Int
    /// The header line, e.g. `@@ -10,3 +10,4 @@ func parse()`, without its newline.
    public var header: String
    /// The context, deleted and added lines, in order.
    public var lines: [DiffLine]

    /// Creates a hunk.
    public init(oldStart: Int, oldCount: Int, newStart: Int, newCount: Int, header: String, lines: [DiffLine]) {
        self.oldStart = oldStart
        self.oldCount = oldCount
        self.newStart = newStart
        self.newCount = newCount
        self.header = header
        self.lines = lines
    }
}

/// One line of a hunk, with its numbers in the old and the new file.
public struct DiffLine: Sendable, Hashable {
    /// What the line is.
    public enum Kind: Sendable, Hashable {
        /// Unchanged; present on both sides.
        case context
        /// Only in the new file.
        case added
        /// Only in the old file.
        case deleted
    }

    /// What the line is.
    public var kind: Kind
    /// The 1-based line number in the old file; nil for an added line.
    public var oldLineNumber: Int?
    /// The 1-based line number in the new file; nil for a deleted line.
    public var newLineNumber: Int?
    /// The line's bytes without its final `\n` (a `\r` of a CRLF line stays).
    public var content: [UInt8]
    /// False for a last line that has no newline ("\ No newline at end of file").
    public var endsWithNewline: Bool

    /// Creates a line.
    public init(kind: Kind, oldLineNumber: Int?, newLineNumber: Int?, content: [UInt8], endsWithNewline: Bool) {
        self.kind = kind
        self.oldLineNumber = oldLineNumber
        self.newLineNumber = newLineNumber
        self.content = content
        self.endsWithNewline = endsWithNewline
    }

    /// The content decoded as UTF-8, invalid bytes replaced by U+FFFD.
    public var text: String { String(decoding: content, as: UTF8.self) }
}
