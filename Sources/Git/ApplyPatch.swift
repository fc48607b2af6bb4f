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
    /// Hunks must match exactly (no fuzz, no whitespace leniency), as `git apply` without options requires;
    /// libgit2 does look for a hunk's context at other lines when the line numbers are off.
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

/// A submodule (gitlink) entry changed by a patch. libgit2 1.5 applies such a delta by looking up the submodule
/// commit as if it were a blob of this repository, and fails; Sparrow skips it in libgit2 and applies it here,
/// from the `Subproject commit <id>` lines git prints for it.
private struct SubmoduleChange {
    var status: git_delta_t
    var oldPath: GitPath
    var newPath: GitPath
    var oldCommit: ObjectID?
    var newCommit: ObjectID?
    var header: String

    /// The gitlink deltas of a parsed patch.
    static func changes(in diff: OpaquePointer, _ operation: String) throws -> [SubmoduleChange] {
        var changes: [SubmoduleChange] = []
        let gitlink = UInt32(GIT_FILEMODE_COMMIT.rawValue)
        for position in 0..<git_diff_num_deltas(diff) {
            guard let delta = git_diff_get_delta(diff, position)?.pointee,
                UInt32(delta.old_file.mode) == gitlink || UInt32(delta.new_file.mode) == gitlink
            else { continue }
            var change = SubmoduleChange(
                status: delta.status, oldPath: GitPath(cString: delta.old_file.path) ?? GitPath(""),
                newPath: GitPath(cString: delta.new_file.path) ?? GitPath(""), oldCommit: nil, newCommit: nil,
                header: ""
            )
            var patch: OpaquePointer?
            try LibGit2.check(git_patch_from_diff(&patch, diff, position), operation)
            defer { if let patch { git_patch_free(patch) } }
            if let patch, git_patch_num_hunks(patch) > 0 {
                var hunk: UnsafePointer<git_diff_hunk>?
                var count = 0
                try LibGit2.check(git_patch_get_hunk(&hunk, &count, patch, 0), operation)
                if var header = hunk?.pointee.header, let length = hunk?.pointee.header_len {
                    let bytes = withUnsafeBytes(of: &header) { Array($0.prefix(min(length, $0.count))) }
                    change.header = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                }
                for index in 0..<count {
                    var line: UnsafePointer<git_diff_line>?
                    try LibGit2.check(git_patch_get_line_in_hunk(&line, patch, 0, index), operation)
                    guard let line = line?.pointee, let content = line.content else { continue }
                    let text = String(decoding: UnsafeRawBufferPointer(start: content, count: line.content_len), as: UTF8.self)
                    let prefix = "Subproject commit "
                    guard text.hasPrefix(prefix) else { continue }
                    let id = ObjectID(hex: String(text.dropFirst(prefix.count).prefix(40)))
                    if UInt8(bitPattern: line.origin) == UInt8(ascii: "-") { change.oldCommit = id }
                    if UInt8(bitPattern: line.origin) == UInt8(ascii: "+") { change.newCommit = id }
                }
            }
            changes.append(change)
        }
        return changes
    }

    /// Checks the old side against `preimage` and writes the new side into `index`.
    func apply(to index: OpaquePointer, preimage: OpaquePointer, _ operation: String) throws {
        let failure = PatchFailure(path: oldPath, hunk: 1, hunkHeader: header.isEmpty ? nil : header)
        if status != GIT_DELTA_ADDED {
            var entry: OpaquePointer?
            let code = oldPath.withCString { git_tree_entry_bypath(&entry, preimage, $0) }
            defer { if let entry { git_tree_entry_free(entry) } }
            let current = code == 0 ? entry.flatMap { git_tree_entry_id($0) }.map { ObjectID($0) } : nil
            guard let current, oldCommit == nil || current == oldCommit else {
                throw GitError(
                    kind: .patchFailed, operation: operation,
                    message: "\(failure) did not apply: expected submodule commit \(oldCommit?.hex ?? "?") at '\(oldPath)',"
                        + " found \(current?.hex ?? "no entry")",
                    patchFailure: failure
                )
            }
            try LibGit2.check(oldPath.withCString { git_index_remove_bypath(index, $0) }, operation)
        }
        guard status != GIT_DELTA_DELETED else { return }
        guard let newCommit else {
            throw GitError(
                kind: .patchFailed, operation: operation,
                message: "\(failure) did not apply: expected a `+Subproject commit <id>` line for '\(newPath)'",
                patchFailure: failure
            )
        }
        var entry = git_index_entry()
        entry.mode = UInt32(GIT_FILEMODE_COMMIT.rawValue)
        entry.id = newCommit.oid
        let code = newPath.withCString { path in
            entry.path = path
            return git_index_add(index, &entry)
        }
        try LibGit2.check(code, "\(operation): submodule '\(newPath)'")
    }
}
