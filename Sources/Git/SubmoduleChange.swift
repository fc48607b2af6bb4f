internal import CLibGit2
internal import Foundation

/// A submodule (gitlink) entry changed by a patch. libgit2 1.5 applies such a delta by looking up the submodule
/// commit as if it were a blob of this repository, and fails; Sparrow skips it in libgit2 and applies it here,
/// from the `Subproject commit <id>` lines git prints for it.
struct SubmoduleChange {
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
