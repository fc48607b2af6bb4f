public import Foundation

/// The outcome of a child process run by `runProcess`.
public struct ProcessResult: Sendable {
    public var exitCode: Int32
    public var standardOutput: String
    public var standardError: String
    /// True when the watchdog had to kill the process.
    public var timedOut: Bool
    /// Wall-clock seconds the process ran.
    public var seconds: Double
    /// Peak resident memory of the child in KiB: with `measureMemory`, the program's own (GNU time); otherwise
    /// `wait4`'s rusage, which also counts the test process's own peak (see `runProcess`).
    public var maxResidentKiB: Int
}

/// A child process started with `posix_spawn` and reaped with `wait4` polling, never through Foundation's
/// `Process`: `Process.waitUntilExit()` spins a run loop on the calling thread and depends on Foundation's manager
/// thread seeing the child end through an inherited socket; called from the test runner's cooperative threads
/// hundreds of times per suite it parked threads for good (the whole suite hung with every thread idle, once in CI).
/// Here nothing but `wait4` on this child's own pid decides that it has ended.
public final class ChildProcess: @unchecked Sendable {
    /// The child's process id (with `processGroup`, also its group's id).
    public let pid: pid_t
    /// Whether the child leads a process group of its own (`signal(_:)` then reaches everything it started).
    public let processGroup: Bool
    private let lock = NSLock()
    private var rawStatus: Int32?
    private var usage = rusage()

    /// Starts `argv[0]` (an absolute path) with `argv` and exactly `environment`; the three standard streams are
    /// opened from the given paths (standard input read-only; the outputs created or truncated). The child inherits
    /// no other descriptor of the test process, and every signal at its default with none blocked.
    public init(
        argv: [String], environment: [String: String], standardInput: String = "/dev/null",
        standardOutput: String = "/dev/null", standardError: String = "/dev/null", processGroup: Bool = false
    ) throws {
        precondition(!argv.isEmpty, "argv names the program")
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, standardInput, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, standardOutput, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, standardError, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        if let closeFrom = processRunnerCloseFrom { _ = closeFrom(&actions, 3) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
            | (processGroup ? POSIX_SPAWN_SETPGROUP : 0)))  // process group 0: its own, with pid as its id
        let cArguments = argv.map { strdup($0) } + [nil]
        let cEnvironment = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            cArguments.forEach { free($0) }
            cEnvironment.forEach { free($0) }
        }
        var pid: pid_t = 0
        let code = posix_spawn(&pid, argv[0], &actions, &attributes, cArguments, cEnvironment)
        guard code == 0 else {
            throw CocoaError(.executableLoad, userInfo: [NSLocalizedDescriptionKey:
                "cannot start \(argv[0]): \(String(cString: strerror(code)))"])
        }
        self.pid = pid
        self.processGroup = processGroup
    }

    /// Reaps the child if it has ended (never blocks); true while it runs.
    public var isRunning: Bool {
        lock.withLock {
            guard rawStatus == nil else { return false }
            var status: Int32 = 0
            let waited = wait4(pid, &status, WNOHANG, &usage)
            if waited == pid {
                rawStatus = status
            } else if waited == -1, errno != EINTR {
                rawStatus = -1  // not our child any more: nothing left to wait for
            }
            return rawStatus == nil
        }
    }

    /// Sends `signal` to the child; with `processGroup`, to its whole group, even once the child itself has been
    /// reaped (what it started may still run). A reaped child outside a group is left alone (its pid may be reused).
    public func signal(_ signal: Int32) {
        lock.withLock {
            if processGroup {
                kill(-pid, signal)
            } else if rawStatus == nil {
                kill(pid, signal)
            }
        }
    }

    /// Waits until the child has ended or `deadline` has passed (polling every 10 ms on the calling thread);
    /// true when it has ended.
    @discardableResult
    public func wait(until deadline: Date = .distantFuture) -> Bool {
        while isRunning {
            if Date() > deadline { return false }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return true
    }

    /// The exit code, or the number of the signal that ended it (as Foundation's `Process` reports it); nil
    /// while it runs; -1 when it could not be waited for (not this process's child any more).
    public var terminationStatus: Int32? {
        guard let status = lock.withLock({ rawStatus }) else { return nil }
        guard status != -1 else { return -1 }
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : signal
    }

    /// True when a signal ended the child; nil while it runs.
    public var endedBySignal: Bool? {
        guard let status = lock.withLock({ rawStatus }) else { return nil }
        return status != -1 && status & 0x7f != 0
    }

    /// `wait4`'s peak resident memory of the ended child in KiB (see `runProcess` for what it includes).
    public var maxResidentKiB: Int { lock.withLock { Int(usage.ru_maxrss) } }
}

/// Runs `executable` with `arguments`, killing it when it runs past `watchdogSeconds` (a guard against hangs, not
/// a timing threshold). Standard input is empty.
///
/// `measureMemory`: the child's own peak resident memory. `wait4`'s `ru_maxrss` cannot give it: posix_spawn
/// starts the child in the test process's address space, and Linux carries that address space's peak into the
/// child's at exec, so a test process that once held 260 MB reports every child at 260 MB. The program then runs
/// under GNU time (Debian `time`, installed by `Scripts/setup`), which forks it from its own small address space
/// and reports its peak; the watchdog kills both (a process group).
public func runProcess(
    _ executable: URL,
    arguments: [String],
    environment: [String: String]? = nil,
    currentDirectory: URL? = nil,
    watchdogSeconds: Double = 30,
    measureMemory: Bool = false
) throws -> ProcessResult {
    let gnuTime = "/usr/bin/time"
    if measureMemory, !FileManager.default.isExecutableFile(atPath: gnuTime) {
        throw CocoaError(.executableLoad, userInfo: [NSLocalizedDescriptionKey:
            "\(gnuTime) is missing: it measures a child's peak memory (Debian package `time`; run Scripts/setup)"])
    }
    let scratch = try TemporaryDirectory(prefix: "sparrow-process")
    defer { scratch.remove() }
    let memoryFile = scratch.url.appendingPathComponent("rss")
    let outFile = scratch.url.appendingPathComponent("out")
    let errFile = scratch.url.appendingPathComponent("err")
    // A working directory goes through a tiny shell (glibc's addchdir_np is not visible to Swift).
    let program: [String] = if let currentDirectory {
        ["/bin/sh", "-c", "cd -- \"$1\" || exit 127; shift; exec \"$@\"", "sparrow-test-launch", currentDirectory.path,
         executable.path] + arguments
    } else {
        [executable.path] + arguments
    }
    let launch = measureMemory ? [gnuTime, "-q", "-f", "%M", "-o", memoryFile.path, "--"] + program : program
    let start = Date()
    let child = try ChildProcess(
        argv: launch, environment: environment ?? ProcessInfo.processInfo.environment,
        standardOutput: outFile.path, standardError: errFile.path, processGroup: measureMemory
    )
    var timedOut = false
    if !child.wait(until: start.addingTimeInterval(watchdogSeconds)) {
        timedOut = true
        child.signal(SIGTERM)
        if !child.wait(until: Date().addingTimeInterval(0.5)) || child.processGroup { child.signal(SIGKILL) }
        child.wait()
    }
    let seconds = Date().timeIntervalSince(start)
    var measuredKiB = child.maxResidentKiB
    if measureMemory {
        let report = (try? String(contentsOf: memoryFile, encoding: .utf8)) ?? ""
        guard let kib = report.split(separator: "\n").last.flatMap({ Int($0) }) else {
            throw CocoaError(.executableLoad, userInfo: [NSLocalizedDescriptionKey:
                "\(gnuTime) wrote no peak memory for \(executable.path) (expected a number of KiB, found \(report.debugDescription))"])
        }
        measuredKiB = kib
    }
    return ProcessResult(
        exitCode: child.terminationStatus ?? -1,
        standardOutput: (try? String(contentsOf: outFile, encoding: .utf8)) ?? "",
        standardError: (try? String(contentsOf: errFile, encoding: .utf8)) ?? "",
        timedOut: timedOut,
        seconds: seconds,
        maxResidentKiB: measuredKiB
    )
}

/// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34+), looked up at run time (declared only under
/// `_GNU_SOURCE`): the child inherits no descriptor of the test process, whose other tests hold pipes.
private let processRunnerCloseFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32)? = {
    guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return nil }
    return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32).self)
}()
