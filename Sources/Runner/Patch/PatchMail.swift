import Foundation
import Git

/// Turns files changed on top of a commit into a `git format-patch` mail that applies cleanly to that commit.
/// The files are written into a fresh checkout of the commit (so build products and stray files of the verified
/// worktree never reach the patch), the tree and an unreferenced commit are written as objects (the user's work
/// tree, index, HEAD and references are not touched; git's garbage collection prunes them in time), and the
/// commit is formatted. The commit's dates are the base commit's,
/// so the same files give the same mail.
enum PatchMail {
    /// The mail, or nil when the files equal the base's.
    static func make(
        repository: Repository, base: ObjectID, files: [(path: String, text: String)], taskID: String, message: String
    ) throws -> String? {
        let clean = try repository.checkout(base.hex)
        defer { try? clean.remove() }
        let editGuard = EditGuard(root: clean.directory, maxBytes: Int.max)
        for file in files {
            if let refusal = editGuard.write(file.text, to: file.path) {
                throw GitError(operation: "prepare the patch of \(taskID)", message: refusal.reason)
            }
        }
        let baseCommit = try repository.commit(base)
        let tree = try repository.writeTree(from: clean.directory, base: base.hex)
        if tree == baseCommit.treeID { return nil }
        let signature = Signature(
            name: "Sparrow", email: "sparrow@localhost", date: baseCommit.committer.date,
            timeZoneOffsetMinutes: baseCommit.committer.timeZoneOffsetMinutes
        )
        let commit = try repository.createCommit(tree: tree, parents: [base], message: message, author: signature, reference: nil)
        let mail = try repository.formatPatch(commit.hex)
        return String(decoding: mail, as: UTF8.self)
    }
}
