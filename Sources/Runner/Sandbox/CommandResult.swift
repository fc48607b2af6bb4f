/// How a command (sandboxed or not) ended.
public struct CommandResult: Sendable, Hashable, Codable {
    /// The exit status, or 128 + the signal number when a signal ended it (as a shell reports it).
    public var exitCode: Int32
    /// True when the wall clock ran out and Sparrow killed the process group.
    public var timedOut: Bool
    /// Standard output and standard error interleaved, trimmed to `SandboxLimits.outputBytes` (start and end kept).
    public var output: String
    /// Bytes of output left out of `output`.
    public var elidedBytes: Int
    /// Wall-clock seconds (volatile).
    public var seconds: Double

    public init(exitCode: Int32, timedOut: Bool, output: String, elidedBytes: Int = 0, seconds: Double = 0) {
        self.exitCode = exitCode
        self.timedOut = timedOut
        self.output = output
        self.elidedBytes = elidedBytes
        self.seconds = seconds
    }

    /// True when the command exited 0 in time.
    public var succeeded: Bool { exitCode == 0 && !timedOut }

    /// One line for the journal, e.g. `exit 1`, `killed by signal 9`, `timed out after 900 s`.
    public var summary: String {
        if timedOut { return "timed out after \(Int(seconds.rounded())) s (process group killed)" }
        if exitCode > 128 { return "killed by signal \(exitCode - 128)" }
        return "exit \(exitCode)"
    }

    /// The last `maxBytes` of the output at line boundaries, for feeding back to the model.
    public func tail(_ maxBytes: Int) -> String {
        let bytes = Array(output.utf8)
        guard bytes.count > maxBytes else { return output }
        var start = bytes.count - maxBytes
        while start < bytes.count, bytes[start] != UInt8(ascii: "\n") { start += 1 }
        return "[… \(start) bytes left out …]\n" + String(decoding: bytes[min(start + 1, bytes.count)...], as: UTF8.self)
    }
}
