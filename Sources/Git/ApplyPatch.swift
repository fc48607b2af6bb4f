public import Foundation
internal import CLibGit2

/// Where `applyPatch` is while libgit2 applies, so a failure can name the file and hunk.
private final class ApplyProgress {
    var path: GitPath?
    /// True when the current delta is a submodule entry, whose hunks libgit2 cannot apply (Sparrow does).
    var skippingSubmodule = false
    var hunk = 0
    var hunkHeader: String?
}

extension Repository {
    /// Applies a git-format unified diff (as `git diff` or `git format-patch` print it, with `diff --git`
    /// headers) to the tree of the commit `revision` names, entirely in memory, and writes the resulting tree.
    /// The work tree, index, HEAD and references are not touched.
    ///
    /// Hunks must match exactly (no fuzz, no whitespace leniency) and at the lines their headers name: unlike
    /// `git apply`, libgit2 1.5 does not look for a hunk's context at an offset. Patches made from the same
    /// commit (what Sparrow itself produces) always qualify. Submodule entries are applied from their
    /// `Subproject commit` lines. An added or deleted empty file is accepted (see `PatchText`).
    ///
    /// - Returns: the id of the patched tree (already in the object database).
    /// - Throws: `GitError` of kind `.patchFailed` when the text is not a git patch or a hunk does not apply;
    ///   `patchFailure` then names the file and the 1-based hunk; revision errors as `resolve(_:)`.
    public func applyPatch(_ patch: Data, to revision: String) throws -> ObjectID {
        try withHandle { repo in
            let operation = "apply a patch to '\(revision)' in \(displayPath)"
            var diff: OpaquePointer?
            let parseCode = PatchText.repairingEmptyFileHeaders(patch).withUnsafeBytes { raw in
                git_diff_from_buffer(&diff, raw.baseAddress?.assumingMemoryBound(to: CChar.self), raw.count)
            }
            if parseCode < 0 {
                var error = LibGit2.error(parseCode, operation)
                error.kind = .patchFailed
                error.message = "the text is not a git-format patch (expected `diff --git` sections): "
                    + error.message
                throw error
            }
            guard let diff else { throw GitError(operation: operation, message: "libgit2 returned no patch") }
            defer { git_diff_free(diff) }
            if git_diff_num_deltas(diff) == 0 {
                throw GitError(
                    kind: .patchFailed, operation: operation,
                    message: "the patch changes no file (expected `diff --git` sections)"
                )
            }
            let commit = try lookupCommit(repo, revision)
            defer { git_commit_free(commit) }
            let tree = try commitTree(commit, operation)
            defer { git_tree_free(tree) }
            return try Self.apply(repo, diff, tree, operation)
        }
    }

    /// Applies a parsed patch to a tree and writes the result. Runs under the lock.
    private static func apply(
        _ repo: OpaquePointer, _ diff: OpaquePointer, _ tree: OpaquePointer, _ operation: String
    ) throws -> ObjectID {
        let progress = ApplyProgress()
        var options = git_apply_options()
        try LibGit2.check(git_apply_options_init(&options, UInt32(GIT_APPLY_OPTIONS_VERSION)), operation)
        options.payload = Unmanaged.passUnretained(progress).toOpaque()
        options.delta_cb = { delta, payload in
            guard let delta, let payload else { return 0 }
            let progress = Unmanaged<ApplyProgress>.fromOpaque(payload).takeUnretainedValue()
            let file = delta.pointee.status == GIT_DELTA_ADDED ? delta.pointee.new_file : delta.pointee.old_file
            progress.path = GitPath(cString: file.path)
            progress.hunk = 0
            progress.hunkHeader = nil
            let gitlink = UInt32(GIT_FILEMODE_COMMIT.rawValue)
            progress.skippingSubmodule =
                UInt32(delta.pointee.old_file.mode) == gitlink || UInt32(delta.pointee.new_file.mode) == gitlink
            return progress.skippingSubmodule ? 1 : 0
        }
        options.hunk_cb = { hunk, payload in
            guard let hunk, let payload else { return 0 }
            let progress = Unmanaged<ApplyProgress>.fromOpaque(payload).takeUnretainedValue()
            progress.hunk += 1
            var header = hunk.pointee.header
            let length = hunk.pointee.header_len
            let bytes = withUnsafeBytes(of: &header) { Array($0.prefix(min(length, $0.count))) }
            progress.hunkHeader = String(decoding: bytes, as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            return 0
        }
        var index: OpaquePointer?
        let code = withExtendedLifetime(progress) { git_apply_to_tree(&index, repo, tree, diff, &options) }
        if code < 0 {
            var error = LibGit2.error(code, operation)
            error.kind = .patchFailed
            if let path = progress.path {
                let failure = PatchFailure(
                    path: path, hunk: progress.hunk > 0 ? progress.hunk : nil, hunkHeader: progress.hunkHeader
                )
                error.patchFailure = failure
                error.message = "\(failure) did not apply: \(error.message)"
            }
            throw error
        }
        guard let index else { throw GitError(operation: operation, message: "libgit2 returned no index") }
        defer { git_index_free(index) }
        try SubmoduleChange.changes(in: diff, operation).forEach { try $0.apply(to: index, preimage: tree, operation) }
        var treeID = git_oid()
        try LibGit2.check(git_index_write_tree_to(&treeID, index, repo), operation)
        return ObjectID(treeID)
    }
}
