/// `sandbox_limits:` (in `defaults`, and per patch or tests task): the resource limits of each sandboxed command
/// (`verify`, `run`). A task's mapping overrides the keys it names; the rest come from `defaults`, then from these
/// defaults, which equal the Runner's standard limits.
public struct SandboxLimitSettings: Sendable, Hashable {
    /// `processes`: most processes and threads (RLIMIT_NPROC).
    public var processes = 512
    /// `file_size`: largest file a process may write (RLIMIT_FSIZE).
    public var fileSize = ByteCount(bytes: 1 << 30)
    /// `memory`: address space per process (RLIMIT_AS).
    public var memory = ByteCount(bytes: 8 << 30)
    /// `cpu_time`: CPU time per process (RLIMIT_CPU).
    public var cpuTime = DurationSpec(seconds: 900)
    /// `wall_clock`: wall-clock time of the whole command; then its process group is killed.
    public var wallClock = DurationSpec(seconds: 900)
    /// `tmpfs`: size of the writable `/tmp`.
    public var tmpfs = ByteCount(bytes: 512 << 20)
    /// `output`: most bytes of output kept (start and end; the middle is elided).
    public var output = ByteCount(bytes: 64 << 10)

    public init() {}

    /// The allowed ranges, checked by the decoder and shown in the key table.
    static let processRange = 1...65_536
    static let fileSizeRange: ClosedRange<Int64> = (1 << 20)...(16 << 40)
    static let memoryRange: ClosedRange<Int64> = (64 << 20)...(16 << 40)
    static let tmpfsRange: ClosedRange<Int64> = (1 << 20)...(1 << 40)
    static let outputRange: ClosedRange<Int64> = (1 << 10)...(64 << 20)
    static let durationRange = 1...86_400
}
