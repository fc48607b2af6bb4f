import Jobs

/// Resource limits for one sandboxed command (DESIGN.md §7). Each is applied as a hard limit with `prlimit`
/// inside the sandbox, except the wall clock, which Sparrow enforces by killing the process group.
public struct SandboxLimits: Sendable, Hashable, Codable {
    /// Most processes and threads (RLIMIT_NPROC, counted in the sandbox's own user namespace).
    public var processes: Int
    /// Largest file a process may write, in bytes (RLIMIT_FSIZE).
    public var fileSizeBytes: Int
    /// Address space per process, in bytes (RLIMIT_AS).
    public var memoryBytes: Int
    /// CPU seconds per process (RLIMIT_CPU).
    public var cpuSeconds: Int
    /// Wall-clock seconds for the whole command; then its process group is killed.
    public var wallSeconds: Double
    /// Size of the writable tmpfs mounted on `/tmp`, in bytes.
    public var tmpfsBytes: Int
    /// Most bytes of output kept (the start and the end are kept; the middle is elided).
    public var outputBytes: Int

    /// A limit left out takes the spec's default (`SandboxLimitSettings`, the one place the standard limits are
    /// written).
    public init(
        processes: Int? = nil, fileSizeBytes: Int? = nil, memoryBytes: Int? = nil, cpuSeconds: Int? = nil,
        wallSeconds: Double? = nil, tmpfsBytes: Int? = nil, outputBytes: Int? = nil
    ) {
        let spec = SandboxLimitSettings()
        self.processes = processes ?? spec.processes
        self.fileSizeBytes = fileSizeBytes ?? Int(spec.fileSize.bytes)
        self.memoryBytes = memoryBytes ?? Int(spec.memory.bytes)
        self.cpuSeconds = cpuSeconds ?? spec.cpuTime.seconds
        self.wallSeconds = wallSeconds ?? Double(spec.wallClock.seconds)
        self.tmpfsBytes = tmpfsBytes ?? Int(spec.tmpfs.bytes)
        self.outputBytes = outputBytes ?? Int(spec.output.bytes)
    }

    /// The defaults used for `setup`, `verify` and `run` commands.
    public static let standard = SandboxLimits()

    /// The limits a spec's `sandbox_limits` asks for.
    init(_ settings: SandboxLimitSettings) {
        self.init(
            processes: settings.processes, fileSizeBytes: Int(settings.fileSize.bytes), memoryBytes: Int(settings.memory.bytes),
            cpuSeconds: settings.cpuTime.seconds, wallSeconds: Double(settings.wallClock.seconds),
            tmpfsBytes: Int(settings.tmpfs.bytes), outputBytes: Int(settings.output.bytes)
        )
    }

    enum CodingKeys: String, CodingKey {
        case processes
        case fileSizeBytes = "file_size_bytes"
        case memoryBytes = "memory_bytes"
        case cpuSeconds = "cpu_seconds"
        case wallSeconds = "wall_seconds"
        case tmpfsBytes = "tmpfs_bytes"
        case outputBytes = "output_bytes"
    }
}
