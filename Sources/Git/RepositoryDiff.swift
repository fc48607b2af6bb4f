internal import Foundation
internal import CLibGit2

extension Repository {
    /// The diff from `base` to `head`, each any revision naming a commit (`HEAD~1`, a SHA, a tag...) or a tree
    /// (a tree id, e.g. one `writeTree(from:base:)` or `applyPatch(_:to:)` returned, or `HEAD^{tree}`). A nil
    /// `base` diffs `head` against the empty tree (every file added), as for a root commit.
    ///
    /// - Throws: `GitError` naming the revision that does not resolve, or the pair when diffing fails.
    public func diff(from base: String?, to head: String, options: DiffOptions = DiffOptions()) throws -> Diff {
        try withHandle { repo in
            let operation = "diff \(base ?? "(empty tree)")..\(head) in \(displayPath)"
            let headTree = try lookupTree(repo, revision: head)
            defer { git_tree_free(headTree) }
            let baseTree = try base.map { try lookupTree(repo, revision: $0) }
            defer { if let baseTree { git_tree_free(baseTree) } }
            return try Self.diffTrees(repo, baseTree, headTree, options, operation)
        }
    }

    /// The diff between two commits given by id.
    public func diff(from base: ObjectID?, to head: ObjectID, options: DiffOptions = DiffOptions()) throws -> Diff {
        try diff(from: base?.hex, to: head.hex, options: options)
    }

    /// Diffs two trees (nil = empty tree) into Swift values. Runs under the lock.
    static func diffTrees(
        _ repo: OpaquePointer, _ old: OpaquePointer?, _ new: OpaquePointer?, _ options: DiffOptions,
        _ operation: String
    ) throws -> Diff {
        let diff = try makeDiff(repo, old, new, options, operation)
        defer { git_diff_free(diff) }
        var files: [FileDiff] = []
        for index in 0..<git_diff_num_deltas(diff) {
            files.append(try fileDiff(diff, index, operation))
        }
        // A type change (file <-> symlink) comes from libgit2 as an addition then a deletion of the same path;
        // git prints the deletion first, and only that order applies.
        var index = 0
        while index + 1 < files.count {
            if files[index].status == .added, files[index + 1].status == .deleted,
                files[index].path == files[index + 1].path
            {
                files.swapAt(index, index + 1)
                index += 1
            }
            index += 1
        }
        return Diff(files: files)
    }

    /// A `git_diff*` between two trees with `options` applied, renames found (the caller frees it).
    static func makeDiff(
        _ repo: OpaquePointer, _ old: OpaquePointer?, _ new: OpaquePointer?, _ options: DiffOptions,
        _ operation: String
    ) throws -> OpaquePointer {
        var diffOptions = git_diff_options()
        try LibGit2.check(git_diff_options_init(&diffOptions, UInt32(GIT_DIFF_OPTIONS_VERSION)), operation)
        diffOptions.context_lines = UInt32(clamping: max(0, options.contextLines))
        diffOptions.interhunk_lines = UInt32(clamping: max(0, options.interhunkLines))
        diffOptions.max_size = git_off_t(options.bigFileThreshold)
        if options.indentHeuristic { diffOptions.flags |= GIT_DIFF_INDENT_HEURISTIC.rawValue }

        // The pathspec strings must outlive the git_diff_tree_to_tree call.
        let pathspec = options.paths.map { strdup($0) }
        defer { pathspec.forEach { free($0) } }
        var diff: OpaquePointer?
        var pathPointers = pathspec
        let code = pathPointers.withUnsafeMutableBufferPointer { buffer in
            diffOptions.pathspec = git_strarray(strings: buffer.baseAddress, count: buffer.count)
            return git_diff_tree_to_tree(&diff, repo, old, new, &diffOptions)
        }
        try LibGit2.check(code, operation)
        guard let diff else { throw GitError(operation: operation, message: "libgit2 returned no diff") }
        if options.detectRenames {
            var find = git_diff_find_options()
            if git_diff_find_options_init(&find, UInt32(GIT_DIFF_FIND_OPTIONS_VERSION)) < 0 {
                git_diff_free(diff)
                throw LibGit2.error(-1, operation)
            }
            find.flags = GIT_DIFF_FIND_RENAMES.rawValue | GIT_DIFF_FIND_DONT_IGNORE_WHITESPACE.rawValue
            find.rename_threshold = UInt16(clamping: options.renameThreshold)
            find.rename_limit = max(0, options.renameLimit)
            let findCode = git_diff_find_similar(diff, &find)
            if findCode < 0 {
                let error = LibGit2.error(findCode, operation)
                git_diff_free(diff)
                throw error
            }
        }
        return diff
    }

    /// Converts delta `index` of `diff`, with its hunks and lines.
    private static func fileDiff(_ diff: OpaquePointer, _ index: Int, _ operation: String) throws -> FileDiff {
        var patch: OpaquePointer?
        try LibGit2.check(git_patch_from_diff(&patch, diff, index), operation)
        defer { if let patch { git_patch_free(patch) } }
        // Read the delta after making the patch: loading the content is what sets the binary flag.
        guard let delta = git_diff_get_delta(diff, index)?.pointee else {
            throw GitError(operation: operation, message: "libgit2 has no delta \(index)")
        }
        let status = Self.status(delta.status)
        let oldFile = delta.old_file, newFile = delta.new_file
        let oldExists = status != .added, newExists = status != .deleted
        return FileDiff(
            status: status,
            oldPath: oldExists ? GitPath(cString: oldFile.path) : nil,
            newPath: newExists ? GitPath(cString: newFile.path) : nil,
            oldMode: oldExists ? FileMode(rawValue: UInt32(oldFile.mode)) : .none,
            newMode: newExists ? FileMode(rawValue: UInt32(newFile.mode)) : .none,
            oldID: oldExists ? ObjectID(oldFile.id) : nil,
            newID: newExists ? ObjectID(newFile.id) : nil,
            similarity: status == .renamed || status == .copied ? Int(delta.similarity) : nil,
            isBinary: delta.flags & GIT_DIFF_FLAG_BINARY.rawValue != 0,
            hunks: try patch.map { try hunks(of: $0, operation) } ?? []
        )
    }

    private static func status(_ status: git_delta_t) -> FileDiff.Status {
        switch status {
        case GIT_DELTA_ADDED: .added
        case GIT_DELTA_DELETED: .deleted
        case GIT_DELTA_RENAMED: .renamed
        case GIT_DELTA_COPIED: .copied
        case GIT_DELTA_TYPECHANGE: .typeChanged
        default: .modified
        }
    }

    /// The hunks of one file's patch.
    private static func hunks(of patch: OpaquePointer, _ operation: String) throws -> [Hunk] {
        var hunks: [Hunk] = []
        for hunkIndex in 0..<git_patch_num_hunks(patch) {
            var hunkPointer: UnsafePointer<git_diff_hunk>?
            var lineCount = 0
            try LibGit2.check(git_patch_get_hunk(&hunkPointer, &lineCount, patch, hunkIndex), operation)
            guard let hunk = hunkPointer?.pointee else { continue }
            var lines: [DiffLine] = []
            lines.reserveCapacity(lineCount)
            for lineIndex in 0..<lineCount {
                var linePointer: UnsafePointer<git_diff_line>?
                try LibGit2.check(
                    git_patch_get_line_in_hunk(&linePointer, patch, hunkIndex, lineIndex), operation
                )
                guard let line = linePointer?.pointee, let converted = diffLine(line) else { continue }
                lines.append(converted)
            }
            hunks.append(Hunk(
                oldStart: Int(hunk.old_start), oldCount: Int(hunk.old_lines),
                newStart: Int(hunk.new_start), newCount: Int(hunk.new_lines),
                header: headerText(hunk), lines: lines
            ))
        }
        return hunks
    }

    /// A content line, or nil for libgit2's "no newline at end of file" markers (folded into `endsWithNewline`).
    private static func diffLine(_ line: git_diff_line) -> DiffLine? {
        let kind: DiffLine.Kind
        switch UInt8(bitPattern: line.origin) {
        case UInt8(ascii: " "): kind = .context
        case UInt8(ascii: "+"): kind = .added
        case UInt8(ascii: "-"): kind = .deleted
        default: return nil
        }
        var content: [UInt8] = []
        if let pointer = line.content, line.content_len > 0 {
            content = UnsafeRawBufferPointer(start: pointer, count: line.content_len).map { $0 }
        }
        let endsWithNewline = content.last == UInt8(ascii: "\n")
        if endsWithNewline { content.removeLast() }
        return DiffLine(
            kind: kind,
            oldLineNumber: line.old_lineno > 0 ? Int(line.old_lineno) : nil,
            newLineNumber: line.new_lineno > 0 ? Int(line.new_lineno) : nil,
            content: content,
            endsWithNewline: endsWithNewline
        )
    }

    private static func headerText(_ hunk: git_diff_hunk) -> String {
        var header = hunk.header
        let bytes = withUnsafeBytes(of: &header) { Array($0.prefix(min(hunk.header_len, $0.count))) }
        var text = String(decoding: bytes, as: UTF8.self)
        while text.hasSuffix("\n") { text.removeLast() }
        return text
    }
}
