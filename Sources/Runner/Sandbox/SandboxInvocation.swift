import Foundation

/// The command line that runs one shell command under bubblewrap (DESIGN.md §7): new user, PID, network, IPC,
/// UTS and cgroup namespaces; the whole system read-only; only the worktree and a size-capped tmpfs on `/tmp`
/// writable; the invoking user's home hidden; an unprivileged uid inside; hard resource limits set by `prlimit`
/// before the shell starts, so the command cannot raise them.
///
/// When Sparrow runs as root, bubblewrap is started through `setpriv` as `nobody` (65534): the kernel does not
/// apply RLIMIT_NPROC to processes whose real uid is root, so a sandbox mapped onto root would not contain a fork
/// bomb (measured: with the mapping onto root, 1,000+ processes in 60 s; onto 65534, "Cannot fork" at once).
struct SandboxInvocation: Sendable, Hashable {
    /// The uid and gid outside the sandbox when Sparrow runs as root.
    static let unprivilegedID = 65534
    /// The uid and gid the command sees.
    static let insideID = 1000

    var bwrap: String
    var prlimit: String
    var setpriv: String?
    var worktree: URL
    var limits: SandboxLimits
    /// Directories to hide behind an empty tmpfs (the invoking user's home), unless they hold the worktree.
    var hidden: [String]

    /// The executable and arguments.
    func arguments(command: String) -> (executable: String, arguments: [String]) {
        var bwrapArguments = [
            "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
            "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
            "--size", "\(limits.tmpfsBytes)", "--tmpfs", "/tmp",
        ]
        let root = worktree.standardizedFileURL.path
        for path in hidden where path != "/" && path != "/tmp" && !root.hasPrefix(path.hasSuffix("/") ? path : path + "/") {
            bwrapArguments += ["--tmpfs", path]
        }
        bwrapArguments += [
            "--bind", root, root, "--chdir", root,
            "--uid", "\(Self.insideID)", "--gid", "\(Self.insideID)", "--hostname", "sparrow-sandbox",
            "--", prlimit,
            "--nproc=\(limits.processes):\(limits.processes)",
            "--fsize=\(limits.fileSizeBytes):\(limits.fileSizeBytes)",
            "--as=\(limits.memoryBytes):\(limits.memoryBytes)",
            "--cpu=\(limits.cpuSeconds):\(limits.cpuSeconds)",
            "--core=0:0",
            "--", "/bin/sh", "-c", command,
        ]
        if let setpriv {
            let id = "\(Self.unprivilegedID)"
            return (setpriv, ["--reuid=\(id)", "--regid=\(id)", "--clear-groups", "--", bwrap] + bwrapArguments)
        }
        return (bwrap, bwrapArguments)
    }

    /// The environment the command gets: an allow-list, nothing else of the parent's (no tokens, no keys).
    static func environment(from parent: [String: String]) -> [String: String] {
        var environment: [String: String] = [
            "HOME": "/tmp", "TMPDIR": "/tmp", "USER": "sandbox", "LOGNAME": "sandbox", "SPARROW_SANDBOX": "bwrap",
            "PATH": parent["PATH"] ?? "/usr/local/bin:/usr/bin:/bin",
        ]
        for name in ["LANG", "LC_ALL", "LC_CTYPE", "TZ", "TERM", "SOURCE_DATE_EPOCH"] {
            if let value = parent[name] { environment[name] = value }
        }
        return environment
    }

    /// The first executable called `name` in the usual system folders, then in `PATH`.
    static func locate(_ name: String, path: String?) -> String? {
        let folders = ["/usr/bin", "/bin", "/usr/sbin", "/sbin", "/usr/local/bin"]
            + (path ?? "").split(separator: ":").map(String.init)
        return folders.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
