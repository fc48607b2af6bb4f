public import Foundation
internal import CLibGit2

/// Who made a commit, and when.
public struct Signature: Sendable, Hashable {
    /// The name, decoded as UTF-8 (invalid bytes replaced).
    public var name: String
    /// The e-mail address.
    public var email: String
    /// The moment of the signature.
    public var date: Date
    /// The signer's time-zone offset from UTC in minutes (e.g. +120 for `+0200`).
    public var timeZoneOffsetMinutes: Int

    /// Creates a signature; `date` defaults to now and the offset to UTC.
    public init(name: String, email: String, date: Date = Date(), timeZoneOffsetMinutes: Int = 0) {
        self.name = name
        self.email = email
        self.date = date
        self.timeZoneOffsetMinutes = timeZoneOffsetMinutes
    }

    init(_ signature: UnsafePointer<git_signature>) {
        let value = signature.pointee
        name = value.name.map { String(cString: $0) } ?? ""
        email = value.email.map { String(cString: $0) } ?? ""
        date = Date(timeIntervalSince1970: TimeInterval(value.when.time))
        timeZoneOffsetMinutes = Int(value.when.offset)
    }

    /// A libgit2 signature (the caller frees it with `git_signature_free`).
    func makeGitSignature(_ operation: @autoclosure () -> String) throws -> UnsafeMutablePointer<git_signature> {
        var signature: UnsafeMutablePointer<git_signature>?
        let seconds = git_time_t(date.timeIntervalSince1970.rounded(.down))
        try LibGit2.check(
            git_signature_new(&signature, name, email, seconds, Int32(timeZoneOffsetMinutes)), operation()
        )
        guard let signature else { throw GitError(operation: operation(), message: "libgit2 returned no signature") }
        return signature
    }
}

/// A commit's metadata.
public struct Commit: Sendable, Hashable {
    /// The commit's id.
    public var id: ObjectID
    /// The id of its root tree.
    public var treeID: ObjectID
    /// The ids of its parents, first parent first (empty for a root commit).
    public var parentIDs: [ObjectID]
    /// The author.
    public var author: Signature
    /// The committer.
    public var committer: Signature
    /// The full message, as stored (leading blank lines removed), decoded as UTF-8.
    public var message: String
    /// The subject: the first paragraph of the message, joined into one line (as `git log --format=%s`).
    public var summary: String
    /// The message after the subject paragraph, or nil when there is none.
    public var body: String?
    /// The `encoding` header, when the commit declares one.
    public var messageEncoding: String?
}

extension Repository {
    /// The metadata of the commit a revision names.
    ///
    /// - Throws: `GitError` naming `revision`, as `resolve(_:)` does.
    public func commit(_ revision: String) throws -> Commit {
        try withHandle { repo in
            let commit = try lookupCommit(repo, revision)
            defer { git_commit_free(commit) }
            return Commit(
                id: ObjectID(git_commit_id(commit)),
                treeID: ObjectID(git_commit_tree_id(commit)),
                parentIDs: (0..<git_commit_parentcount(commit)).compactMap { index in
                    git_commit_parent_id(commit, index).map { ObjectID($0) }
                },
                author: Signature(git_commit_author(commit)),
                committer: Signature(git_commit_committer(commit)),
                message: git_commit_message(commit).map { String(cString: $0) } ?? "",
                summary: git_commit_summary(commit).map { String(cString: $0) } ?? "",
                body: git_commit_body(commit).map { String(cString: $0) },
                messageEncoding: git_commit_message_encoding(commit).map { String(cString: $0) }
            )
        }
    }

    /// The metadata of a commit given by id.
    public func commit(_ id: ObjectID) throws -> Commit { try commit(id.hex) }
}
