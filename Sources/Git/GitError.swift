internal import CLibGit2

/// A failure of a git operation, carrying libgit2's own message.
public struct GitError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What Sparrow asked for, e.g. `resolve revision 'HEAD~2' in /src/repo`.
    public var operation: String
    /// libgit2's message for the failure.
    public var message: String

    public init(operation: String, message: String) {
        self.operation = operation
        self.message = message
    }

    public var description: String { "git: \(operation): \(message)" }

    /// The libgit2 version this build links against, e.g. `1.5.1`.
    public static var libgit2Version: String {
        var major: Int32 = 0, minor: Int32 = 0, patch: Int32 = 0
        git_libgit2_version(&major, &minor, &patch)
        return "\(major).\(minor).\(patch)"
    }
}
