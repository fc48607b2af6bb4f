import Foundation
import Jobs

/// Runs the shell commands of patch and tests tasks: `setup` with network as the user would, and model-written
/// code (`verify`, `run`) under bubblewrap, or, only when the spec says `sandbox: none`, without isolation.
struct CommandSandbox: Sendable {
    enum Isolation: Sendable, Hashable {
        /// bubblewrap, checked to work on this machine.
        case bwrap(SandboxInvocation)
        /// `sandbox: none`: plain `/bin/sh -c` in its own process group, still with the limits' wall clock.
        case none
    }

    let isolation: Isolation
    let limits: SandboxLimits
    /// The parent's environment (for `setup`, and the allow-listed part for sandboxed commands).
    let environment: [String: String]

    /// Builds the sandbox the spec asks for. With `bwrap`, bubblewrap is tried once with a trivial command; when
    /// the kernel or container runtime refuses it, this throws with what to change (and no model-written code
    /// runs, DESIGN.md §7).
    static func make(
        mode: SandboxMode, limits: SandboxLimits = .standard, environment: [String: String]
    ) async throws(SandboxFailure) -> CommandSandbox {
        guard mode == .bwrap else { return CommandSandbox(isolation: .none, limits: limits, environment: environment) }
        let path = environment["PATH"]
        guard let bwrap = SandboxInvocation.locate("bwrap", path: path) else {
            throw SandboxFailure(
                "sandbox: bwrap was asked for but bubblewrap is not installed (Debian/Ubuntu: apt-get install bubblewrap);"
                    + " model-written code is not run without it (or set `sandbox: none` to run it unisolated)")
        }
        guard let prlimit = SandboxInvocation.locate("prlimit", path: path) else {
            throw SandboxFailure("sandbox: prlimit (util-linux) is missing; it sets the sandbox's resource limits")
        }
        var setpriv: String?
        if geteuid() == 0 {
            guard let found = SandboxInvocation.locate("setpriv", path: path) else {
                throw SandboxFailure("sandbox: running as root needs setpriv (util-linux) to drop to an unprivileged uid")
            }
            setpriv = found
        }
        let hidden = [environment["HOME"]].compactMap { $0 }.filter { !$0.isEmpty }
        let probeDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-probe-\(UUID().uuidString)")
        do {
            try FileManager.default.createDirectory(at: probeDirectory, withIntermediateDirectories: true)
        } catch {
            throw SandboxFailure("sandbox: cannot create \(probeDirectory.path): \(error)")
        }
        defer { try? FileManager.default.removeItem(at: probeDirectory) }
        let invocation = SandboxInvocation(
            bwrap: bwrap, prlimit: prlimit, setpriv: setpriv, worktree: probeDirectory, limits: limits, hidden: hidden
        )
        let sandbox = CommandSandbox(isolation: .bwrap(invocation), limits: limits, environment: environment)
        try sandbox.prepare(probeDirectory)
        var probeLimits = limits  // the configured limits, so a limit bubblewrap or prlimit refuses shows up here
        probeLimits.wallSeconds = min(30, limits.wallSeconds)
        let probe = try await sandbox.run("echo sparrow-sandbox-ok", in: probeDirectory, limits: probeLimits)
        guard probe.succeeded, probe.output.contains("sparrow-sandbox-ok") else {
            throw SandboxFailure(SandboxAdvice.explain(probeOutput: probe.output, host: .current()))
        }
        return sandbox
    }

    /// Runs model-written code: `command` under `/bin/sh -c` from `worktree`, isolated as configured.
    func run(_ command: String, in worktree: URL, limits: SandboxLimits? = nil) async throws(SandboxFailure) -> CommandResult {
        let limits = limits ?? self.limits
        switch isolation {
        case var .bwrap(invocation):
            try prepare(worktree)
            invocation.worktree = worktree
            invocation.limits = limits
            let (executable, arguments) = invocation.arguments(command: command)
            return try await ProcessGroupRunner.run(
                executable: executable, arguments: arguments, environment: SandboxInvocation.environment(from: environment),
                directory: worktree, wallSeconds: limits.wallSeconds, outputBytes: limits.outputBytes
            )
        case .none:
            return try await ProcessGroupRunner.run(
                executable: "/bin/sh", arguments: ["-c", command], environment: environment, directory: worktree,
                wallSeconds: limits.wallSeconds, outputBytes: limits.outputBytes
            )
        }
    }

    /// Runs `setup` (before any model-written code exists): with network and the user's environment, not
    /// isolated, in its own process group with the wall clock of the limits.
    func runSetup(_ command: String, in worktree: URL) async throws(SandboxFailure) -> CommandResult {
        try await ProcessGroupRunner.run(
            executable: "/bin/sh", arguments: ["-c", command], environment: environment, directory: worktree,
            wallSeconds: limits.wallSeconds, outputBytes: limits.outputBytes
        )
    }

    /// When Sparrow runs as root the sandbox runs as `nobody`, which must own the worktree to write in it.
    private func prepare(_ worktree: URL) throws(SandboxFailure) {
        guard case let .bwrap(invocation) = isolation, invocation.setpriv != nil else { return }
        let id = uid_t(SandboxInvocation.unprivilegedID)
        guard lchown(worktree.path, id, gid_t(id)) == 0 else {
            throw SandboxFailure("sandbox: cannot hand \(worktree.path) to uid \(id): \(String(cString: strerror(errno)))")
        }
        Self.handOver(worktree.path, to: id)
    }

    /// `lchown`s everything under `directory`, descending only into real directories: a symlink the sandboxed
    /// code left behind (say to /etc) is re-owned itself, never what it points to.
    private static func handOver(_ directory: String, to id: uid_t) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        for name in names {
            let path = directory + "/" + name
            var info = stat()
            guard lstat(path, &info) == 0 else { continue }
            _ = lchown(path, id, gid_t(id))
            if info.st_mode & S_IFMT == S_IFDIR { handOver(path, to: id) }
        }
    }
}
