/// How to compute a diff. The defaults are those of `git diff` (git 2.39) without configuration:
///
/// - 3 context lines, hunks merged only when they touch (`--inter-hunk-context=0`);
/// - the indent heuristic on (git's `diff.indentHeuristic`, default true since git 2.14);
/// - rename detection on (`diff.renames`, default true since git 2.9) at git's threshold of 50 % similarity
///   (`-M50%`); libgit2's `rename_limit` at 1,000, git's `diff.renameLimit` default (libgit2 counts candidates
///   per file where git counts sources × destinations); copies not detected; rewrites not broken (no `-B`);
///   similarity measured on all bytes, whitespace included (`GIT_DIFF_FIND_DONT_IGNORE_WHITESPACE`);
/// - files above 512 MiB treated as binary (`core.bigFileThreshold`).
///
/// libgit2 estimates similarity with its own sampled hash signature rather than git's line-chunk counting, so a
/// pair near the 50 % threshold can be called a rename by one and not the other; clear renames agree.
public struct DiffOptions: Sendable, Hashable {
    /// Unchanged lines shown around each change (`-U`).
    public var contextLines: Int = 3
    /// Hunks closer than this many lines are merged (`--inter-hunk-context`).
    public var interhunkLines: Int = 0
    /// Pair deleted and added files by similarity (`-M`).
    public var detectRenames: Bool = true
    /// The similarity (0–100) at or above which a pair is a rename (`-M<n>%`).
    public var renameThreshold: Int = 50
    /// The most rename candidates libgit2 considers for each file.
    public var renameLimit: Int = 1000
    /// Shift ambiguous hunks to match indentation, as git does by default.
    public var indentHeuristic: Bool = true
    /// Files larger than this many bytes are treated as binary.
    public var bigFileThreshold: Int = 512 * 1024 * 1024
    /// When not empty, only paths matching one of these pathspecs (fnmatch patterns, or directory prefixes).
    public var paths: [String] = []

    /// Git's defaults, as listed above.
    public init() {}

    /// Git's defaults with `contextLines` context lines.
    public init(contextLines: Int) { self.contextLines = contextLines }
}
