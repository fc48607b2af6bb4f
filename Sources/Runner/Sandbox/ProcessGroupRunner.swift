import Foundation

/// Starts a program in a process group of its own, collects its output through a pipe (keeping only the start and
/// the end), and kills the whole group when the wall clock runs out, when the calling task is cancelled, and
/// always once the program has exited, so nothing it started outlives it.
enum ProcessGroupRunner {
    /// Runs `executable` with `arguments` and exactly `environment` (nothing is inherited) in `directory`.
    static func run(
        executable: String, arguments: [String], environment: [String: String], directory: URL,
        wallSeconds: Double, outputBytes: Int
    ) async throws(SandboxFailure) -> CommandResult {
        let spawned = SpawnerThread.shared.perform { () -> Result<(pid_t, Int32), SandboxFailure> in
            spawnLock.withLock {
                do throws(SandboxFailure) {
                    return .success(try spawn(executable: executable, arguments: arguments, environment: environment, directory: directory))
                } catch {
                    return .failure(error)
                }
            }
        }
        let (pid, readEnd) = try spawned.get()
        let collector = OutputCollector(limit: outputBytes)
        let reader = Thread { collector.drain(readEnd) }
        reader.start()

        let start = Date()
        var status: Int32 = 0
        var timedOut = false
        while true {
            let waited = waitpid(pid, &status, WNOHANG)
            if waited == pid || (waited < 0 && errno != EINTR) { break }
            if Date().timeIntervalSince(start) > wallSeconds || Task.isCancelled {
                timedOut = !Task.isCancelled || Date().timeIntervalSince(start) > wallSeconds
                kill(-pid, SIGKILL)
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                break
            }
            try? await Task.sleep(nanoseconds: 20_000_000)
        }
        // Whatever the program left behind in its group goes too (the pipe then reaches end of file). A process
        // that left the group (a daemon that called setsid, possible only without bubblewrap) may keep the pipe
        // open: its output is then no longer read after a grace period.
        kill(-pid, SIGKILL)
        let graceEnd = Date().addingTimeInterval(2)
        while !collector.isDone, Date() < graceEnd { try? await Task.sleep(nanoseconds: 20_000_000) }
        collector.stop()
        let output = await collector.finished()
        let seconds = Date().timeIntervalSince(start)
        let exitCode: Int32
        if status & 0x7f == 0 {
            exitCode = (status >> 8) & 0xff
        } else {
            exitCode = 128 + (status & 0x7f)
        }
        return CommandResult(
            exitCode: exitCode, timedOut: timedOut, output: output.text, elidedBytes: output.elided, seconds: seconds
        )
    }

    /// Creates the output pipe and starts the program in a new process group; call only under `spawnLock`.
    private static func spawn(
        executable: String, arguments: [String], environment: [String: String], directory: URL
    ) throws(SandboxFailure) -> (pid_t, Int32) {
        var pipeEnds: [Int32] = [0, 0]
        // Close-on-exec, so programs other tasks start at the same moment do not inherit (and hold open) this
        // pipe; the caller's lock keeps another runner from spawning between `pipe` and `fcntl` (glibc's pipe2 is not
        // visible to Swift here).
        guard pipe(&pipeEnds) == 0 else {
            throw SandboxFailure("cannot create a pipe: \(String(cString: strerror(errno)))")
        }
        let (readEnd, writeEnd) = (pipeEnds[0], pipeEnds[1])
        _ = fcntl(readEnd, F_SETFD, FD_CLOEXEC)
        _ = fcntl(writeEnd, F_SETFD, FD_CLOEXEC)

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, writeEnd, 1)
        posix_spawn_file_actions_adddup2(&actions, writeEnd, 2)
        posix_spawn_file_actions_addclose(&actions, readEnd)
        posix_spawn_file_actions_addclose(&actions, writeEnd)
        // Nothing else of Sparrow's reaches the child: no journal, model or pipe descriptor.
        guard let closeFrom = addCloseFrom, closeFrom(&actions, 3) == 0 else {
            close(readEnd)
            close(writeEnd)
            throw SandboxFailure("cannot arrange to close inherited descriptors (glibc 2.34+ posix_spawn_file_actions_addclosefrom_np)")
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        posix_spawnattr_setpgroup(&attributes, 0)
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaults = sigset_t()
        sigfillset(&defaults)
        posix_spawnattr_setsigdefault(&attributes, &defaults)

        // Starts in `directory` through a tiny shell (glibc's addchdir_np is not visible to Swift here).
        let launcher = "/bin/sh"
        let launch = [launcher, "-c", "cd -- \"$1\" || exit 127; shift; exec \"$@\"", "sparrow-launch", directory.path, executable] + arguments
        let argv = launch.map { strdup($0) } + [nil]
        let envp = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let code = posix_spawn(&pid, launcher, &actions, &attributes, argv, envp)
        close(writeEnd)
        guard code == 0 else {
            close(readEnd)
            throw SandboxFailure("cannot start \(executable): \(String(cString: strerror(code)))")
        }
        return (pid, readEnd)
    }

}

/// Starts every child from one thread that lives as long as the process. bubblewrap's `--die-with-parent` uses
/// PR_SET_PDEATHSIG, which fires when the *thread* that started the child exits — and Swift's cooperative threads
/// come and go: a `verify` started from one was killed (SIGKILL, exit 137) when that thread retired.
private final class SpawnerThread: @unchecked Sendable {
    static let shared = SpawnerThread()
    private let condition = NSCondition()
    private var jobs: [@Sendable () -> Void] = []

    private init() {
        let thread = Thread { [condition = self.condition] in
            while true {
                condition.lock()
                while SpawnerThread.shared.jobs.isEmpty { condition.wait() }
                let job = SpawnerThread.shared.jobs.removeFirst()
                condition.unlock()
                job()
            }
        }
        thread.name = "sparrow-spawner"
        thread.start()
    }

    /// Runs `body` on the spawner thread and waits for its result (spawning is quick).
    func perform<T: Sendable>(_ body: @escaping @Sendable () -> T) -> T {
        let done = DispatchSemaphore(value: 0)
        let box = ResultBox<T>()
        condition.lock()
        jobs.append {
            box.value = body()
            done.signal()
        }
        condition.signal()
        condition.unlock()
        done.wait()
        return box.take(orElse: body)
    }

    private final class ResultBox<T>: @unchecked Sendable {
        var value: T?
        func take(orElse fallback: () -> T) -> T { value ?? fallback() }
    }
}

/// Serialises pipe creation and spawning across runners (see `run`).
private let spawnLock = NSLock()

/// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34+), looked up at run time: it is declared only under
/// `_GNU_SOURCE`, which Swift's Glibc module does not define.
private let addCloseFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32)? = {
    guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return nil }
    return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32).self)
}()

/// Reads a pipe to its end on a thread of its own, keeping the first and the last `limit / 2` bytes.
private final class OutputCollector: @unchecked Sendable {
    private let limit: Int
    private let lock = NSLock()
    private var head: [UInt8] = []
    private var tail: [UInt8] = []
    private var elided = 0
    private var done = false
    private var waiter: CheckedContinuation<Void, Never>?

    init(limit: Int) { self.limit = max(2, limit) }

    private var stopRequested = false

    var isDone: Bool { lock.withLock { done } }

    /// Makes `drain` return within 100 ms even if the pipe stays open.
    func stop() { lock.withLock { stopRequested = true } }

    func drain(_ descriptor: Int32) {
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, 100)
            if ready == 0 {
                if lock.withLock({ stopRequested }) { break }
                continue
            }
            if ready < 0 && errno == EINTR { continue }
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            lock.withLock { keep(chunk[0..<count]) }
        }
        close(descriptor)
        let continuation = lock.withLock { () -> CheckedContinuation<Void, Never>? in
            done = true
            defer { waiter = nil }
            return waiter
        }
        continuation?.resume()
    }

    private func keep(_ bytes: ArraySlice<UInt8>) {
        let half = limit / 2
        var rest = bytes
        if head.count < half {
            let taken = rest.prefix(half - head.count)
            head += taken
            rest = rest.dropFirst(taken.count)
        }
        tail += rest
        if tail.count > half {
            elided += tail.count - half
            tail.removeFirst(tail.count - half)
        }
    }

    /// Waits for the end of the pipe and returns what was kept.
    func finished() async -> (text: String, elided: Int) {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = lock.withLock { () -> Bool in
                if done { return true }
                waiter = continuation
                return false
            }
            if resumeNow { continuation.resume() }
        }
        return lock.withLock {
            let middle = elided > 0 ? "\n[… \(elided) bytes of output left out …]\n" : ""
            return (String(decoding: head, as: UTF8.self) + middle + String(decoding: tail, as: UTF8.self), elided)
        }
    }
}
