public import Foundation

/// One entry of a commit built by `GitRepository`: a path (raw bytes, so it may be non-UTF-8), a mode and the
/// blob content (for a submodule entry, the 40-digit commit id the gitlink points at).
public struct GitRepositoryEntry: Sendable, Hashable {
    /// The path's bytes, `/`-separated; must not contain a newline.
    public var path: [UInt8]
    /// The octal mode: `100644`, `100755`, `120000` (symlink) or `160000` (submodule).
    public var mode: String
    /// The blob bytes; for a symlink the target; for a submodule the commit id in hex.
    public var content: Data

    /// An entry from raw path bytes.
    public init(path: [UInt8], mode: String = "100644", content: Data) {
        self.path = path
        self.mode = mode
        self.content = content
    }

    /// A regular (or executable) file with UTF-8 text.
    public static func file(_ path: String, _ text: String, executable: Bool = false) -> Self {
        Self(path: Array(path.utf8), mode: executable ? "100755" : "100644", content: Data(text.utf8))
    }

    /// A regular (or executable) file with arbitrary bytes.
    public static func file(_ path: String, bytes: Data, executable: Bool = false) -> Self {
        Self(path: Array(path.utf8), mode: executable ? "100755" : "100644", content: bytes)
    }

    /// A symbolic link pointing at `target`.
    public static func symlink(_ path: String, to target: String) -> Self {
        Self(path: Array(path.utf8), mode: "120000", content: Data(target.utf8))
    }

    /// A submodule entry (gitlink) at `path` pointing at `commit` (no `.gitmodules` is written).
    public static func submodule(_ path: String, commit: String) -> Self {
        Self(path: Array(path.utf8), mode: "160000", content: Data(commit.utf8))
    }
}

/// A failed git command run by `GitRepository`.
public struct GitCommandError: Error, CustomStringConvertible {
    /// The arguments given to git.
    public var arguments: [String]
    /// Its exit status.
    public var status: Int32
    /// What it printed on stderr.
    public var standardError: String

    public var description: String { "git \(arguments.joined(separator: " ")) exited \(status): \(standardError)" }
}

/// A temporary git repository built with the git CLI (the reference implementation), for tests.
///
/// Commits are written with `git fast-import` from explicit snapshots, so paths and contents are stored byte for
/// byte (no CRLF conversion, non-UTF-8 paths allowed) and dates are fixed: the same calls give the same SHAs.
/// git runs with system and global configuration ignored.
public final class GitRepository: @unchecked Sendable {
    /// The repository directory (the work tree, or the repository itself when bare).
    public let url: URL
    /// True for a bare repository.
    public let isBare: Bool
    private let directory: TemporaryDirectory
    private var nextTime: Int = 1_700_000_000

    /// Runs `git init` in a new temporary directory, with `main` as the initial branch.
    public init(bare: Bool = false) throws {
        directory = try TemporaryDirectory(prefix: "sparrow-git")
        url = directory.url
        isBare = bare
        try git(["init", "-q", "-b", "main"] + (bare ? ["--bare"] : []))
    }

    /// Deletes the repository.
    public func remove() { directory.remove() }

    /// Writes a commit whose tree is exactly `entries` on `branch`, with the branch's tip (if any) as parent, and
    /// returns its id. Each commit is dated one minute after the previous one.
    @discardableResult
    public func commit(
        _ entries: [GitRepositoryEntry], message: String = "commit", branch: String = "main",
        parents: [String]? = nil
    ) throws -> String {
        let ref = "refs/heads/\(branch)"
        let parentIDs = try parents ?? (revParse(ref).map { [$0] } ?? [])
        nextTime += 60
        var stream = Data()
        func line(_ text: String) { stream.append(Data((text + "\n").utf8)) }
        func data(_ bytes: Data) {
            line("data \(bytes.count)")
            stream.append(bytes)
            line("")
        }
        line("commit \(ref)")
        line("author Ada Author <ada@example.com> \(nextTime) +0100")
        line("committer Cy Committer <cy@example.com> \(nextTime) +0000")
        data(Data(message.utf8))
        for (index, parent) in parentIDs.enumerated() { line("\(index == 0 ? "from" : "merge") \(parent)") }
        line("deleteall")
        for entry in entries {
            if entry.mode == "160000" {
                stream.append(Data("M 160000 \(String(decoding: entry.content, as: UTF8.self)) ".utf8))
                stream.append(Data(entry.path))
                line("")
            } else {
                stream.append(Data("M \(entry.mode) inline ".utf8))
                stream.append(Data(entry.path))
                line("")
                data(entry.content)
            }
        }
        line("")
        try git(["fast-import", "--quiet", "--force"], input: stream)
        guard let id = try revParse(ref) else {
            throw GitCommandError(arguments: ["rev-parse", ref], status: 1, standardError: "no commit was written")
        }
        return id
    }

    /// The full id `revision` resolves to, or nil when git does not know it.
    public func revParse(_ revision: String) throws -> String? {
        let result = try run(["rev-parse", "--verify", "-q", revision])
        guard result.status == 0 else { return nil }
        return String(decoding: result.output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The id of git's empty tree (what a root commit is diffed against).
    public static let emptyTree = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"

    /// `git ls-tree -r -z` of `revision`: every file, symlink and submodule entry, keyed by path bytes.
    public func listTree(_ revision: String) throws -> [[UInt8]: (mode: String, type: String, id: String)] {
        var entries: [[UInt8]: (mode: String, type: String, id: String)] = [:]
        for record in try git(["ls-tree", "-r", "-z", revision]).split(separator: 0) {
            guard let tab = record.firstIndex(of: UInt8(ascii: "\t")) else { continue }
            let words = String(decoding: record[record.startIndex..<tab], as: UTF8.self).split(separator: " ")
            guard words.count == 3 else { continue }
            entries[Array(record[(tab + 1)...])] = (String(words[0]), String(words[1]), String(words[2]))
        }
        return entries
    }

    /// Runs git in the repository and returns its stdout; throws `GitCommandError` on a non-zero exit.
    @discardableResult
    public func git(_ arguments: [String], input: Data? = nil) throws -> Data {
        let result = try run(arguments, input: input)
        guard result.status == 0 else {
            throw GitCommandError(
                arguments: arguments, status: result.status,
                standardError: String(decoding: result.error, as: UTF8.self)
            )
        }
        return result.output
    }

    /// Runs git in the repository and returns its stdout as text (trailing newline removed).
    public func gitText(_ arguments: [String], input: Data? = nil) throws -> String {
        var text = String(decoding: try git(arguments, input: input), as: UTF8.self)
        while text.hasSuffix("\n") { text.removeLast() }
        return text
    }

    /// Runs git in the repository whatever its exit status.
    public func run(_ arguments: [String], input: Data? = nil) throws -> (status: Int32, output: Data, error: Data) {
        try Self.runGit(arguments, in: url, input: input)
    }

    /// The environment git runs with: no system or global configuration, C locale, UTC, fixed identities.
    public static var environment: [String: String] {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("GIT_") }
        environment["GIT_CONFIG_NOSYSTEM"] = "1"
        environment["GIT_CONFIG_GLOBAL"] = "/dev/null"
        environment["LC_ALL"] = "C"
        environment["TZ"] = "UTC"
        environment["GIT_AUTHOR_NAME"] = "Ada Author"
        environment["GIT_AUTHOR_EMAIL"] = "ada@example.com"
        environment["GIT_COMMITTER_NAME"] = "Cy Committer"
        environment["GIT_COMMITTER_EMAIL"] = "cy@example.com"
        return environment
    }

    /// Runs `git arguments` in `directory` (stdin from `input`), returning exit status, stdout and stderr bytes.
    /// `extraEnvironment` is added to (and overrides) `environment`. A `ChildProcess`, never Foundation's `Process`
    /// (see `ChildProcess`); the watchdog kills a git that runs past `watchdogSeconds`, which is then an error.
    public static func runGit(
        _ arguments: [String], in directory: URL, input: Data? = nil, extraEnvironment: [String: String] = [:],
        watchdogSeconds: Double = 120
    ) throws -> (status: Int32, output: Data, error: Data) {
        let scratch = try TemporaryDirectory(prefix: "sparrow-git-io")
        defer { scratch.remove() }
        let inputURL = try scratch.write(input ?? Data(), to: "in")
        let outputURL = scratch.url.appendingPathComponent("out")
        let errorURL = scratch.url.appendingPathComponent("err")
        let git = try ChildProcess(
            argv: ["/bin/sh", "-c", "cd -- \"$1\" || exit 127; shift; exec git \"$@\"", "sparrow-git", directory.path]
                + arguments,
            environment: environment.merging(extraEnvironment) { $1 },
            standardInput: inputURL.path, standardOutput: outputURL.path, standardError: errorURL.path
        )
        guard git.wait(until: Date().addingTimeInterval(watchdogSeconds)) else {
            git.signal(SIGKILL)
            git.wait()
            throw CocoaError(.executableLoad, userInfo: [NSLocalizedDescriptionKey:
                "git \(arguments.joined(separator: " ")) in \(directory.path) ran past \(Int(watchdogSeconds)) s and was killed"])
        }
        return (git.terminationStatus ?? -1, try Data(contentsOf: outputURL), try Data(contentsOf: errorURL))
    }
}
