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
    let memoryFile = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-rss-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: memoryFile) }
    let outFile = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-out-\(UUID().uuidString)")
    let errFile = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-err-\(UUID().uuidString)")
    defer {
        try? FileManager.default.removeItem(at: outFile)
        try? FileManager.default.removeItem(at: errFile)
    }
    // posix_spawn + wait4 rather than Foundation's Process: wait4 reports this child, where getrusage
    // (RUSAGE_CHILDREN) reports the largest of every child the test process ever waited for (its peak memory still
    // includes the test process's own: `measureMemory` above).
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, outFile.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_addopen(&actions, 2, errFile.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
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
        | (measureMemory ? POSIX_SPAWN_SETPGROUP : 0)))  // process group 0: its own, with pid as its id

    // A working directory goes through a tiny shell (glibc's addchdir_np is not visible to Swift).
    let program: [String] = if let currentDirectory {
        ["/bin/sh", "-c", "cd -- \"$1\" || exit 127; shift; exec \"$@\"", "sparrow-test-launch", currentDirectory.path,
         executable.path] + arguments
    } else {
        [executable.path] + arguments
    }
    let launch = measureMemory ? [gnuTime, "-q", "-f", "%M", "-o", memoryFile.path, "--"] + program : program
    let argv = launch.map { strdup($0) } + [nil]
    let variables = environment ?? ProcessInfo.processInfo.environment
    let envp = variables.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
        argv.forEach { free($0) }
        envp.forEach { free($0) }
    }
    let start = Date()
    var pid: pid_t = 0
    let code = posix_spawn(&pid, launch[0], &actions, &attributes, argv, envp)
    guard code == 0 else {
        throw CocoaError(.executableLoad, userInfo: [NSLocalizedDescriptionKey:
            "cannot start \(executable.path): \(String(cString: strerror(code)))"])
    }
    let deadline = start.addingTimeInterval(watchdogSeconds)
    var timedOut = false
    var status: Int32 = 0
    var usage = rusage()
    while true {
        let waited = wait4(pid, &status, WNOHANG, &usage)
        if waited == pid { break }
        if waited == -1, errno != EINTR {
            throw CocoaError(.executableLoad, userInfo: [NSLocalizedDescriptionKey:
                "waiting for \(executable.path): \(String(cString: strerror(errno)))"])
        }
        if !timedOut, Date() > deadline {
            timedOut = true
            let target = measureMemory ? -pid : pid
            kill(target, SIGTERM)
            Thread.sleep(forTimeInterval: 0.5)
            kill(target, SIGKILL)
        }
        Thread.sleep(forTimeInterval: 0.01)
    }
    let seconds = Date().timeIntervalSince(start)
    var measuredKiB = Int(usage.ru_maxrss)
    if measureMemory {
        let report = (try? String(contentsOf: memoryFile, encoding: .utf8)) ?? ""
        guard let kib = report.split(separator: "\n").last.flatMap({ Int($0) }) else {
            throw CocoaError(.executableLoad, userInfo: [NSLocalizedDescriptionKey:
                "\(gnuTime) wrote no peak memory for \(executable.path) (expected a number of KiB, found \(report.debugDescription))"])
        }
        measuredKiB = kib
    }
    // Exited: the exit code; killed by a signal: the signal's number (as Foundation's Process reports it).
    let signal = status & 0x7f
    let exitCode = signal == 0 ? (status >> 8) & 0xff : signal
    return ProcessResult(
        exitCode: exitCode,
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
