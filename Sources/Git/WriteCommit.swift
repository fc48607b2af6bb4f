internal import CLibGit2

extension Repository {
    /// Writes a commit of `tree` with `parents` and, when `reference` is given, creates that reference (e.g.
    /// `refs/sparrow/fix-1234`) pointing at it. Only objects and that one new reference are written: the work
    /// tree, index, HEAD and every existing reference stay as they are. Without a reference the commit is an
    /// unreferenced object (git's garbage collection prunes it in time): what a caller that only formats it needs.
    ///
    /// - Parameters:
    ///   - committer: defaults to `author`.
    /// - Returns: the new commit's id.
    /// - Throws: `GitError` of kind `.alreadyExists` when `reference` exists, `.invalidSpec` for a malformed
    ///   name, `.notFound` for an unknown tree or parent.
    public func createCommit(
        tree: ObjectID, parents: [ObjectID], message: String, author: Signature, committer: Signature? = nil,
        reference: String?
    ) throws -> ObjectID {
        try withHandle { repo in
            let operation = "commit tree \(tree.abbreviated())" + (reference.map { " as '\($0)'" } ?? "") + " in \(displayPath)"
            let treeObject = try lookupTree(repo, tree, operation)
            defer { git_tree_free(treeObject) }
            var parentCommits: [OpaquePointer?] = []
            defer { parentCommits.forEach { git_commit_free($0) } }
            for parent in parents {
                var commit: OpaquePointer?
                var oid = parent.oid
                try LibGit2.check(git_commit_lookup(&commit, repo, &oid), "\(operation): parent \(parent.hex)")
                parentCommits.append(commit)
            }
            let authorSignature = try author.makeGitSignature(operation)
            defer { git_signature_free(authorSignature) }
            let committerSignature = try (committer ?? author).makeGitSignature(operation)
            defer { git_signature_free(committerSignature) }

            // Refuse an existing or malformed name before writing anything.
            var valid: Int32 = 1
            if let reference { try LibGit2.check(git_reference_name_is_valid(&valid, reference), operation) }
            guard valid == 1 else {
                throw GitError(
                    kind: .invalidSpec, operation: operation,
                    message: "'\(reference ?? "")' is not a valid reference name (expected e.g. refs/sparrow/NAME)"
                )
            }
            var commitID = git_oid()
            let code = parentCommits.withUnsafeMutableBufferPointer { buffer in
                git_commit_create(
                    &commitID, repo, nil, authorSignature, committerSignature, nil, message, treeObject,
                    buffer.count, buffer.baseAddress
                )
            }
            try LibGit2.check(code, operation)
            guard let reference else { return ObjectID(commitID) }
            var created: OpaquePointer?
            let referenceCode = git_reference_create(&created, repo, reference, &commitID, 0, "sparrow: \(message)")
            if referenceCode == GIT_EEXISTS.rawValue {
                throw GitError(
                    kind: .alreadyExists, operation: operation,
                    message: "the reference already exists (expected a new one): \(LibGit2.lastMessage())",
                    code: referenceCode
                )
            }
            try LibGit2.check(referenceCode, operation)
            git_reference_free(created)
            return ObjectID(commitID)
        }
    }
}
