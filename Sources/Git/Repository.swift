public import Foundation
internal import CLibGit2

/// An open git repository (with a work tree, or bare), read and written through libgit2.
///
/// Thread safety: libgit2 forbids using one `git_repository` from two threads at once, so every operation takes
/// this object's lock for its whole duration (libgit2 objects made during the call never outlive it). A
/// `Repository` can therefore be shared freely; calls on it run one at a time. Open one `Repository` per task
/// when calls should run in parallel.
///
/// Nothing here touches the user's work tree, index or HEAD: diffs are between trees, patches apply to trees in
/// memory, commits are written to new references, and checkouts go to separate directories.
public final class Repository: @unchecked Sendable {
    /// The `.git` directory (for a bare repository, the repository directory itself).
    public let gitDirectory: URL
    /// The work tree, or nil for a bare repository.
    public let workingDirectory: URL?
    /// True when the repository is a shallow clone (its history is cut at some commits).
    public let isShallow: Bool

    /// The `git_repository*`, used only under `lock`.
    private let handle: OpaquePointer
    private let lock = NSLock()

    /// Opens the repository at `url`: a work tree root, a `.git` directory or a bare repository.
    ///
    /// - Parameter searchParents: also look in the parent directories of `url`, as `git` does from a
    ///   subdirectory. Off by default, so a path that is not a repository is reported as such instead of some
    ///   enclosing repository being opened.
    /// - Throws: `GitError` of kind `.notARepository` naming `url` when no repository is there.
    public init(at url: URL, searchParents: Bool = false) throws {
        try LibGit2.ensureInitialised()
        let operation = "open repository at \(url.path)"
        var opened: OpaquePointer?
        let flags = searchParents ? 0 : GIT_REPOSITORY_OPEN_NO_SEARCH.rawValue
        let code = git_repository_open_ext(&opened, url.path, flags, nil)
        let message = LibGit2.lastMessage()
        if code == GIT_EOWNER.rawValue || (code < 0 && message.contains("safe.directory")) {
            // libgit2 1.5.1 reports this case with the message of its failed safe.directory lookup.
            throw GitError(
                kind: .untrustedOwner, operation: operation,
                message: "the repository is owned by another user and is not listed in safe.directory;"
                    + " if it is trusted, run `git config --global --add safe.directory \(url.path)`",
                code: code
            )
        }
        if code == GIT_ENOTFOUND.rawValue {
            throw GitError(
                kind: .notARepository, operation: operation,
                message: "not a git repository (expected a work tree with .git, or a bare repository): "
                    + message,
                code: code
            )
        }
        try LibGit2.check(code, operation)
        guard let opened else { throw GitError(operation: operation, message: "libgit2 returned no repository") }
        handle = opened
        // These paths come back NUL-terminated with a trailing slash.
        gitDirectory = URL(fileURLWithPath: String(cString: git_repository_path(opened)), isDirectory: true)
        workingDirectory = git_repository_workdir(opened).map {
            URL(fileURLWithPath: String(cString: $0), isDirectory: true)
        }
        isShallow = git_repository_is_shallow(opened) == 1
    }

    deinit { git_repository_free(handle) }

    /// True for a repository without a work tree.
    public var isBare: Bool { workingDirectory == nil }

    /// A short name for messages: the work tree, else the git directory.
    var displayPath: String { (workingDirectory ?? gitDirectory).path }

    /// Runs `body` with the libgit2 handle while holding the lock.
    func withHandle<T>(_ body: (OpaquePointer) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(handle)
    }
}
