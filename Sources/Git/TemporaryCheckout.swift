public import Foundation
internal import CLibGit2

/// The files of one commit written into a fresh directory of their own (no `.git` inside), for sandboxed
/// builds and edits. The repository's work tree, index and HEAD are not touched. Remove it with `remove()`.
public struct TemporaryCheckout: Sendable, Hashable {
    /// The directory holding the commit's files.
    public let directory: URL
    /// The commit that was checked out.
    public let commitID: ObjectID

    /// Deletes the directory and everything in it (including files a build or a model added).
    ///
    /// - Throws: `GitError` naming the directory when it cannot be removed.
    public func remove() throws {
        guard FileManager.default.fileExists(atPath: directory.path) else { return }
        do {
            try FileManager.default.removeItem(at: directory)
        } catch {
            throw GitError(operation: "remove checkout \(directory.path)", message: "\(error)")
        }
    }
}

extension Repository {
    /// Writes the files of the commit `revision` names into a new directory under `parent` (the system's
    /// temporary folder by default), byte for byte as stored: no CRLF, ident or other filter is applied, so
    /// `writeTree(from:base:)` gives back the same tree when nothing was edited. Executable bits and symlinks are
    /// kept; a submodule entry becomes an empty directory.
    ///
    /// - Throws: `GitError` naming the revision, or the directory when it cannot be created or filled.
    public func checkout(_ revision: String, under parent: URL? = nil) throws -> TemporaryCheckout {
        let base = parent ?? FileManager.default.temporaryDirectory
        let directory = base.appendingPathComponent("sparrow-checkout-\(UUID().uuidString)", isDirectory: true)
        let operation = "check out '\(revision)' into \(directory.path)"
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw GitError(operation: operation, message: "cannot create the directory: \(error)")
        }
        do {
            let id = try withHandle { repo in
                let commit = try lookupCommit(repo, revision)
                defer { git_commit_free(commit) }
                var options = git_checkout_options()
                try LibGit2.check(git_checkout_options_init(&options, UInt32(GIT_CHECKOUT_OPTIONS_VERSION)), operation)
                options.checkout_strategy = GIT_CHECKOUT_FORCE.rawValue | GIT_CHECKOUT_DONT_UPDATE_INDEX.rawValue
                    | GIT_CHECKOUT_RECREATE_MISSING.rawValue
                options.disable_filters = 1
                // An empty baseline: the target directory starts empty, whatever HEAD holds. (With HEAD as the
                // baseline, libgit2 skips a path whose type differs between HEAD and the commit.)
                var baseline: OpaquePointer?
                try LibGit2.check(git_index_new(&baseline), operation)
                defer { git_index_free(baseline) }
                options.baseline_index = baseline
                let code = directory.path.withCString { path in
                    options.target_directory = path
                    return git_checkout_tree(repo, commit, &options)
                }
                try LibGit2.check(code, operation)
                return ObjectID(git_commit_id(commit))
            }
            return TemporaryCheckout(directory: directory, commitID: id)
        } catch {
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
    }

    /// Writes a tree of the files now in `directory` (typically a `TemporaryCheckout` after edits), starting
    /// from the tree of `base`: files are added or replaced, files gone from the directory are removed, and
    /// submodule entries of `base` are kept. Contents are stored as they are (no filters); `.git` is skipped.
    /// Only objects are written; no index file or reference changes.
    ///
    /// - Returns: the new tree's id.
    public func writeTree(from directory: URL, base: String) throws -> ObjectID {
        let operation = "write a tree from \(directory.path) over '\(base)' in \(displayPath)"
        let files = try Self.listFiles(in: directory, operation)
        return try withHandle { repo in
            let commit = try lookupCommit(repo, base)
            defer { git_commit_free(commit) }
            let tree = try commitTree(commit, operation)
            defer { git_tree_free(tree) }
            var index: OpaquePointer?
            try LibGit2.check(git_index_new(&index), operation)
            guard let index else { throw GitError(operation: operation, message: "libgit2 returned no index") }
            defer { git_index_free(index) }
            try LibGit2.check(git_index_read_tree(index, tree), operation)

            // Drop every non-submodule entry the directory no longer has.
            let present = Set(files.map(\.path))
            var stale: [GitPath] = []
            for position in 0..<git_index_entrycount(index) {
                guard let entry = git_index_get_byindex(index, position)?.pointee,
                    let path = GitPath(cString: entry.path)
                else { continue }
                if FileMode(rawValue: entry.mode) != .gitlink, !present.contains(path) { stale.append(path) }
            }
            for path in stale {
                try LibGit2.check(path.withCString { git_index_remove_bypath(index, $0) }, "\(operation): '\(path)'")
            }
            for file in files {
                var blobID = git_oid()
                try LibGit2.check(
                    file.data.withUnsafeBytes { git_blob_create_from_buffer(&blobID, repo, $0.baseAddress, $0.count) },
                    "\(operation): '\(file.path)'"
                )
                var entry = git_index_entry()
                entry.mode = file.mode.rawValue
                entry.id = blobID
                entry.file_size = UInt32(truncatingIfNeeded: file.data.count)
                let code = file.path.withCString { path in
                    entry.path = path
                    return git_index_add(index, &entry)
                }
                try LibGit2.check(code, "\(operation): '\(file.path)'")
            }
            var treeID = git_oid()
            try LibGit2.check(git_index_write_tree_to(&treeID, index, repo), operation)
            return ObjectID(treeID)
        }
    }

    /// The regular files and symlinks under `directory`, with git modes and contents (a symlink's content is
    /// its target), skipping `.git`. Walks with POSIX calls so names that are not UTF-8 keep their bytes.
    private static func listFiles(in directory: URL, _ operation: String) throws
        -> [(path: GitPath, mode: FileMode, data: Data)]
    {
        var files: [(path: GitPath, mode: FileMode, data: Data)] = []
        try walk(Array(directory.path.utf8), relative: [], into: &files, operation)
        return files
    }

    private static func walk(
        _ absolute: [UInt8], relative: [UInt8], into files: inout [(path: GitPath, mode: FileMode, data: Data)],
        _ operation: String
    ) throws {
        guard let stream = cString(absolute, { opendir($0) }) else {
            throw GitError(operation: operation, message: "cannot read directory '\(GitPath(bytes: relative))'")
        }
        defer { closedir(stream) }
        var names: [[UInt8]] = []
        while let entry = readdir(stream) {
            var nameTuple = entry.pointee.d_name
            let name = withUnsafeBytes(of: &nameTuple) { raw in Array(raw.prefix { $0 != 0 }) }
            if name == Array(".".utf8) || name == Array("..".utf8) || (relative.isEmpty && name == Array(".git".utf8)) {
                continue
            }
            names.append(name)
        }
        for name in names {
            let childAbsolute = absolute + [UInt8(ascii: "/")] + name
            let childRelative = relative.isEmpty ? name : relative + [UInt8(ascii: "/")] + name
            let path = GitPath(bytes: childRelative)
            var info = stat()
            guard cString(childAbsolute, { lstat($0, &info) }) == 0 else {
                throw GitError(operation: operation, message: "cannot stat '\(path)'")
            }
            switch info.st_mode & S_IFMT {
            case S_IFDIR:
                try walk(childAbsolute, relative: childRelative, into: &files, operation)
            case S_IFLNK:
                var target = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
                let length = cString(childAbsolute) { readlink($0, &target, target.count - 1) }
                guard length >= 0 else { throw GitError(operation: operation, message: "cannot read link '\(path)'") }
                files.append((path, .symlink, Data(target.prefix(length).map { UInt8(bitPattern: $0) })))
            case S_IFREG:
                guard let data = readFile(childAbsolute) else {
                    throw GitError(operation: operation, message: "cannot read '\(path)': errno \(errno)")
                }
                files.append((path, info.st_mode & S_IXUSR != 0 ? .executable : .regular, data))
            default:
                continue  // sockets, fifos and devices have no place in a tree
            }
        }
    }

    /// The whole content of the file at `path` (raw bytes), or nil when it cannot be read.
    private static func readFile(_ path: [UInt8]) -> Data? {
        let descriptor = cString(path) { open($0, O_RDONLY) }
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var data = Data()
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 { return nil }
            if count == 0 { return data }
            data.append(contentsOf: chunk[0..<count])
        }
    }

    private static func cString<T>(_ bytes: [UInt8], _ body: (UnsafePointer<CChar>) -> T) -> T {
        GitPath(bytes: bytes).withCString(body)
    }
}
