internal import CLibGit2

extension Repository {
    /// The best common ancestor of two commits (`git merge-base a b`), as a pull request's diff starts from.
    ///
    /// - Throws: `GitError` of kind `.notFound` when the commits share no history (or a shallow clone cut it).
    public func mergeBase(_ first: ObjectID, _ second: ObjectID) throws -> ObjectID {
        try withHandle { handle in
            var result = git_oid()
            var one = first.oid
            var two = second.oid
            try LibGit2.check(git_merge_base(&result, handle, &one, &two), "merge base of \(first.abbreviated()) and \(second.abbreviated())")
            return ObjectID(result)
        }
    }
}
