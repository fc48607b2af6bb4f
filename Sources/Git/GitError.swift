internal import CLibGit2

/// A failure of a git operation: what Sparrow asked for, what kind of failure it was, and libgit2's own message.
///
/// `operation` always names the request (the revision, path, commit or repository involved), so a message such as
/// `git: resolve revision 'v9' in /src/repo: revspec 'v9' not found` can go to the user unchanged.
public struct GitError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is, for callers that react differently to each.
    public enum Kind: Sendable, Hashable {
        /// The path is not a git repository (nor, when searching was asked for, inside one).
        case notARepository
        /// The repository belongs to another user and is not listed in git's `safe.directory` setting, so
        /// libgit2 (like git since 2.35.2) refuses to open it. Common in CI containers whose checkout was made by
        /// another uid.
        case untrustedOwner
        /// A revision, object, reference or path does not exist.
        case notFound
        /// A short SHA or name matches more than one object.
        case ambiguous
        /// A revision or reference name is malformed.
        case invalidSpec
        /// The repository is a shallow clone and the object lies beyond its depth.
        case beyondShallowBoundary
        /// An object could not be read or inflated: the object database is damaged.
        case corruptObject
        /// An object is larger than the limit the caller set.
        case tooLarge
        /// A patch could not be parsed or did not apply; `patchFailure` says where.
        case patchFailed
        /// Something that must be new (a reference, a directory) already exists.
        case alreadyExists
        /// An object has an unexpected type (e.g. a revision names a blob where a commit was asked for).
        case wrongType
        /// Any other libgit2 or file-system failure.
        case other
    }

    /// What kind of failure this is.
    public var kind: Kind
    /// What Sparrow asked for, e.g. `resolve revision 'HEAD~2' in /src/repo`.
    public var operation: String
    /// libgit2's message for the failure (or Sparrow's, when the check is Sparrow's own).
    public var message: String
    /// libgit2's return code (`GIT_ENOTFOUND` = -3, ...), or 0 when the failure was found by Sparrow.
    public var code: Int32
    /// For `.patchFailed`: the file and hunk that did not apply, when known.
    public var patchFailure: PatchFailure?

    /// Creates an error; `kind` defaults to `.other` and `code` to 0 (a failure found by Sparrow itself).
    public init(
        kind: Kind = .other, operation: String, message: String, code: Int32 = 0, patchFailure: PatchFailure? = nil
    ) {
        self.kind = kind
        self.operation = operation
        self.message = message
        self.code = code
        self.patchFailure = patchFailure
    }

    public var description: String { "git: \(operation): \(message)" }

    /// The libgit2 version this build links against, e.g. `1.5.1`.
    public static var libgit2Version: String {
        var major: Int32 = 0, minor: Int32 = 0, patch: Int32 = 0
        git_libgit2_version(&major, &minor, &patch)
        return "\(major).\(minor).\(patch)"
    }
}

/// Where a patch failed to apply: the file, the hunk (1-based, in patch order) and that hunk's header.
public struct PatchFailure: Sendable, Hashable, CustomStringConvertible {
    /// The path the failing file section patches (its old path; the new one for an added file).
    public var path: GitPath
    /// The 1-based number of the failing hunk within that file's section, or nil when the file itself failed
    /// (e.g. it is missing from the tree, or should not exist yet).
    public var hunk: Int?
    /// The failing hunk's `@@ -a,b +c,d @@` header, when `hunk` is set.
    public var hunkHeader: String?

    /// Creates a failure location.
    public init(path: GitPath, hunk: Int?, hunkHeader: String?) {
        self.path = path
        self.hunk = hunk
        self.hunkHeader = hunkHeader
    }

    public var description: String {
        guard let hunk else { return "file '\(path)'" }
        return "file '\(path)', hunk \(hunk)" + (hunkHeader.map { " (\($0))" } ?? "")
    }
}
