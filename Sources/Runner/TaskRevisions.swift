import Git
import Jobs

/// Resolves the revisions a task names to commits.
struct TaskRevisions {
    let repository: Repository
    let environment: [String: String]

    /// The commits of `task` by role (`base`, `head`, `at`), as full SHAs.
    func resolve(_ task: TaskSpec) throws(RunnerError) -> [String: ObjectID] {
        switch task.kind {
        case let .review(review):
            let head = try commit(review.head.value, task: task, role: "head")
            return ["base": try base(review.base.value, head: head, task: task), "head": head]
        case let .patch(patch):
            return ["at": try commit(patch.at.value, task: task, role: "at")]
        case let .tests(tests):
            let head = try commit(tests.head.value, task: task, role: "head")
            return ["base": try base(tests.base.value, head: head, task: task), "head": head]
        }
    }

    private func commit(_ revision: String, task: TaskSpec, role: String) throws(RunnerError) -> ObjectID {
        do {
            return try repository.resolve(revision)
        } catch {
            throw .badInput("task \(task.id): \(role) '\(revision)': \(error)")
        }
    }

    /// `auto` is the pull/merge request base: GitLab's `CI_MERGE_REQUEST_DIFF_BASE_SHA` (already the merge base), or
    /// the merge base of `GITHUB_BASE_REF`'s branch (`origin/<ref>`, else `<ref>`) with head, as GitHub's
    /// three-dot diff shows a pull request.
    private func base(_ spec: RevisionSpec, head: ObjectID, task: TaskSpec) throws(RunnerError) -> ObjectID {
        switch spec {
        case let .revision(revision):
            return try commit(revision, task: task, role: "base")
        case .auto:
            if let sha = environment["CI_MERGE_REQUEST_DIFF_BASE_SHA"], !sha.isEmpty {
                return try commit(sha, task: task, role: "base (CI_MERGE_REQUEST_DIFF_BASE_SHA)")
            }
            if let ref = environment["GITHUB_BASE_REF"], !ref.isEmpty {
                let branch = (try? repository.resolve("origin/\(ref)")) ?? (try? repository.resolve(ref))
                guard let branch else {
                    throw .badInput("task \(task.id): base: auto: GITHUB_BASE_REF=\(ref) but neither origin/\(ref) nor \(ref) exists (check out with fetch-depth: 0)")
                }
                do {
                    return try repository.mergeBase(branch, head)
                } catch {
                    throw .badInput("task \(task.id): base: auto: no merge base of \(ref) and head: \(error) (a shallow clone? use fetch-depth: 0)")
                }
            }
            throw .badInput("task \(task.id): base: auto needs a pull/merge request pipeline (GITHUB_BASE_REF or CI_MERGE_REQUEST_DIFF_BASE_SHA); set base: to a revision such as HEAD~1")
        }
    }
}
