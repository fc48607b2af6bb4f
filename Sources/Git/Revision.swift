internal import CLibGit2

extension Repository {
    /// Resolves any revision git understands (`HEAD~2`, `origin/main`, `v1.0`, `main@{1}`, a short or full SHA)
    /// to the id of the commit it names, peeling annotated tags.
    ///
    /// - Throws: `GitError` naming `revision` and this repository: `.notFound` for an unknown revision,
    ///   `.ambiguous` for a short SHA matching several objects, `.beyondShallowBoundary` when the repository is a
    ///   shallow clone that lacks the commit, `.wrongType` when the revision names a tree or blob.
    public func resolve(_ revision: String) throws -> ObjectID {
        try withHandle { repo in
            let commit = try lookupCommit(repo, revision)
            defer { git_commit_free(commit) }
            return ObjectID(git_commit_id(commit))
        }
    }

    /// The `git_commit*` a revision names (the caller frees it). Runs under the lock.
    func lookupCommit(_ repo: OpaquePointer, _ revision: String) throws -> OpaquePointer {
        let operation = "resolve revision '\(revision)' in \(displayPath)"
        var object: OpaquePointer?
        let code = git_revparse_single(&object, repo, revision)
        if code < 0 { throw revisionError(code, operation) }
        guard let object else { throw GitError(operation: operation, message: "libgit2 returned no object") }
        defer { git_object_free(object) }
        var peeled: OpaquePointer?
        let peelCode = git_object_peel(&peeled, object, GIT_OBJECT_COMMIT)
        if peelCode < 0 {
            var error = LibGit2.error(peelCode, operation)
            error.kind = .wrongType
            error.message = "expected a commit, found a \(String(cString: git_object_type2string(git_object_type(object))))"
            throw error
        }
        guard let peeled else { throw GitError(operation: operation, message: "libgit2 returned no commit") }
        return peeled
    }

    /// The `git_tree*` of a commit (the caller frees it). Runs under the lock.
    func commitTree(_ commit: OpaquePointer, _ operation: @autoclosure () -> String) throws -> OpaquePointer {
        var tree: OpaquePointer?
        try LibGit2.check(git_commit_tree(&tree, commit), operation())
        guard let tree else { throw GitError(operation: operation(), message: "libgit2 returned no tree") }
        return tree
    }

    /// Looks up a tree by id (the caller frees it). Runs under the lock.
    func lookupTree(_ repo: OpaquePointer, _ id: ObjectID, _ operation: @autoclosure () -> String) throws
        -> OpaquePointer
    {
        var tree: OpaquePointer?
        var oid = id.oid
        try LibGit2.check(git_tree_lookup(&tree, repo, &oid), operation())
        guard let tree else { throw GitError(operation: operation(), message: "libgit2 returned no tree") }
        return tree
    }

    /// The `git_tree*` a revision names: a commit's tree, or a tree itself (the caller frees it). Runs under the
    /// lock.
    func lookupTree(_ repo: OpaquePointer, revision: String) throws -> OpaquePointer {
        let operation = "resolve revision '\(revision)' in \(displayPath)"
        var object: OpaquePointer?
        let code = git_revparse_single(&object, repo, revision)
        if code < 0 { throw revisionError(code, operation) }
        guard let object else { throw GitError(operation: operation, message: "libgit2 returned no object") }
        defer { git_object_free(object) }
        var tree: OpaquePointer?
        if git_object_peel(&tree, object, GIT_OBJECT_TREE) < 0 {
            throw GitError(
                kind: .wrongType, operation: operation,
                message: "expected a commit or a tree, found a \(String(cString: git_object_type2string(git_object_type(object))))"
            )
        }
        guard let tree else { throw GitError(operation: operation, message: "libgit2 returned no tree") }
        return tree
    }

    /// The error for a revision libgit2 could not parse or find, with the shallow-clone case made explicit.
    private func revisionError(_ code: Int32, _ operation: String) -> GitError {
        var error = LibGit2.error(code, operation)
        if isShallow, error.kind == .notFound || error.kind == .corruptObject {
            error.kind = .beyondShallowBoundary
            error.message += " (the repository is a shallow clone: this commit lies beyond its depth;"
                + " fetch more history, e.g. `git fetch --unshallow` or a larger `fetch-depth`)"
        }
        return error
    }
}
