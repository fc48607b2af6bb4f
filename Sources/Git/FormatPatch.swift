public import Foundation
internal import CLibGit2

extension Repository {
    /// The commit `revision` names as a `git format-patch` mail (mbox format): `From <sha>` line, `From:`,
    /// `Date:` and `Subject: [PATCH] ...` headers, the message body, a diffstat and the diff against its first
    /// parent (full binary diffs included, renames detected), so `git am` recreates the commit.
    ///
    /// - Throws: `GitError` naming the revision; a merge commit is refused (`.wrongType`), as format-patch skips
    ///   merges.
    public func formatPatch(_ revision: String, subjectPrefix: String = "PATCH") throws -> Data {
        try withHandle { repo in
            let operation = "format a patch mail for '\(revision)' in \(displayPath)"
            let commit = try lookupCommit(repo, revision)
            defer { git_commit_free(commit) }
            if git_commit_parentcount(commit) > 1 {
                throw GitError(
                    kind: .wrongType, operation: operation,
                    message: "expected a commit with at most one parent, found a merge"
                )
            }
            var options = git_email_create_options()
            options.version = 1  // GIT_EMAIL_CREATE_OPTIONS_VERSION; the header has no init function for it
            options.flags = GIT_EMAIL_CREATE_DEFAULT.rawValue
            try LibGit2.check(
                git_diff_options_init(&options.diff_opts, UInt32(GIT_DIFF_OPTIONS_VERSION)), operation
            )
            options.diff_opts.flags = GIT_DIFF_SHOW_BINARY.rawValue | GIT_DIFF_INDENT_HEURISTIC.rawValue
            options.diff_opts.context_lines = 3
            try LibGit2.check(
                git_diff_find_options_init(&options.diff_find_opts, UInt32(GIT_DIFF_FIND_OPTIONS_VERSION)),
                operation
            )
            options.diff_find_opts.flags = GIT_DIFF_FIND_RENAMES.rawValue
            options.start_number = 1
            var buffer = git_buf()
            let code = subjectPrefix.withCString { prefix in
                options.subject_prefix = prefix
                return git_email_create_from_commit(&buffer, commit, &options)
            }
            if code < 0 {
                git_buf_dispose(&buffer)
                throw LibGit2.error(code, operation)
            }
            return PatchText.deletingBeforeAdding(Data(consume(&buffer)))
        }
    }
}
