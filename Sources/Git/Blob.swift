public import Foundation
internal import CLibGit2

/// The content of one file at one commit.
public struct Blob: Sendable, Hashable {
    /// The blob's id.
    public var id: ObjectID
    /// The path it was read from.
    public var path: GitPath
    /// The tree entry's mode (regular, executable or symlink; for a symlink `data` is the target).
    public var mode: FileMode
    /// The bytes, exactly as stored (no CRLF or other filter applied).
    public var data: Data
    /// True when the first 8,000 bytes hold a NUL byte: git's own test for binary content.
    public var isBinary: Bool

    /// Creates a blob value.
    public init(id: ObjectID, path: GitPath, mode: FileMode, data: Data, isBinary: Bool) {
        self.id = id
        self.path = path
        self.mode = mode
        self.data = data
        self.isBinary = isBinary
    }

    /// The content as UTF-8 text (invalid bytes replaced by U+FFFD), or nil for binary content.
    public var text: String? { isBinary ? nil : String(decoding: data, as: UTF8.self) }

    /// How many bytes git examines when deciding whether content is binary (`FIRST_FEW_BYTES` in git's xdiff
    /// interface, `GIT_FILTER_BYTES_TO_CHECK_NUL` in libgit2).
    public static let binaryCheckLength = 8000

    /// git's rule: content is binary when a NUL byte occurs in its first 8,000 bytes.
    public static func isBinary(_ data: Data) -> Bool {
        data.prefix(binaryCheckLength).contains(0)
    }
}

extension Repository {
    /// The content of `path` in the commit `revision` names.
    ///
    /// - Parameter sizeLimit: the largest blob, in bytes, to read; a larger one is refused before it is inflated.
    /// - Throws: `GitError` naming the path and revision: `.notFound` when the commit has no such path,
    ///   `.wrongType` when the path is a directory or a submodule, `.tooLarge` above `sizeLimit`,
    ///   `.corruptObject` when the object cannot be read.
    public func blob(at path: GitPath, in revision: String, sizeLimit: Int = 16 * 1024 * 1024) throws -> Blob {
        try withHandle { repo in
            let operation = "read '\(path)' at '\(revision)' in \(displayPath)"
            let commit = try lookupCommit(repo, revision)
            defer { git_commit_free(commit) }
            let tree = try commitTree(commit, operation)
            defer { git_tree_free(tree) }
            var entry: OpaquePointer?
            let code = path.withCString { git_tree_entry_bypath(&entry, tree, $0) }
            if code == GIT_ENOTFOUND.rawValue {
                throw GitError(
                    kind: .notFound, operation: operation,
                    message: "the commit has no file at this path", code: code
                )
            }
            try LibGit2.check(code, operation)
            guard let entry else { throw GitError(operation: operation, message: "libgit2 returned no tree entry") }
            defer { git_tree_entry_free(entry) }
            let mode = FileMode(rawValue: UInt32(git_tree_entry_filemode(entry).rawValue))
            guard git_tree_entry_type(entry) == GIT_OBJECT_BLOB else {
                let what = mode == .gitlink ? "a submodule" : "a directory"
                throw GitError(kind: .wrongType, operation: operation, message: "expected a file, found \(what)")
            }
            guard let idPointer = git_tree_entry_id(entry) else {
                throw GitError(operation: operation, message: "libgit2 returned no id for the entry")
            }
            let id = ObjectID(idPointer)
            try checkSize(repo, id, sizeLimit, operation)
            var blob: OpaquePointer?
            var oid = id.oid
            try LibGit2.check(git_blob_lookup(&blob, repo, &oid), operation)
            guard let blob else { throw GitError(operation: operation, message: "libgit2 returned no blob") }
            defer { git_blob_free(blob) }
            let size = Int(git_blob_rawsize(blob))
            let data = git_blob_rawcontent(blob).map { Data(bytes: $0, count: size) } ?? Data()
            return Blob(id: id, path: path, mode: mode, data: data, isBinary: Blob.isBinary(data))
        }
    }

    /// Reads only the object header to refuse a blob above `limit` before inflating it. Runs under the lock.
    private func checkSize(_ repo: OpaquePointer, _ id: ObjectID, _ limit: Int, _ operation: String) throws {
        var odb: OpaquePointer?
        try LibGit2.check(git_repository_odb(&odb, repo), operation)
        guard let odb else { return }
        defer { git_odb_free(odb) }
        var size = 0
        var type = GIT_OBJECT_ANY
        var oid = id.oid
        try LibGit2.check(git_odb_read_header(&size, &type, odb, &oid), operation)
        if size > limit {
            throw GitError(
                kind: .tooLarge, operation: operation,
                message: "the file has \(size) bytes, more than the limit of \(limit)"
            )
        }
    }
}
