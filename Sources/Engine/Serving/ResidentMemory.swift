import Foundation

/// The process's resident memory and the memory it may use, read from Linux's /proc and cgroup files.
public enum ResidentMemory {
    /// Peak resident set size (`VmHWM`), in bytes; nil where /proc is unavailable or the line is missing.
    public static func peakBytes() -> Int? {
        kilobytes(of: "VmHWM:", in: "/proc/self/status").map { $0 * 1024 }
    }

    /// Anonymous memory of the process backed by transparent huge pages (`AnonHugePages` of
    /// /proc/self/smaps_rollup), in bytes; nil where unavailable.
    public static func hugePageBytes() -> Int? {
        kilobytes(of: "AnonHugePages:", in: "/proc/self/smaps_rollup").map { $0 * 1024 }
    }

    /// The number of the first line of `path` that starts with `key` (lines such as "VmHWM:     123456 kB"); nil
    /// where the file or the line is missing.
    private static func kilobytes(of key: String, in path: String) -> Int? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix(key) })
        else { return nil }
        let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
        return fields.count >= 2 ? Int(fields[1]) : nil
    }

    /// The memory this process may use: the machine's RAM, or the cgroup v2 limit (`memory.max` of the process's
    /// cgroup, as in a container) when that is lower.
    public static func limitBytes() -> Int {
        let physical = Int(ProcessInfo.processInfo.physicalMemory)
        guard let membership = try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8),
              let line = membership.split(separator: "\n").first(where: { $0.hasPrefix("0::") })
        else { return physical }
        let group = line.dropFirst(3)
        let path = "/sys/fs/cgroup" + (group == "/" ? "" : group) + "/memory.max"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
              let limit = Int(text.trimmingCharacters(in: .whitespacesAndNewlines))  // "max": no limit
        else { return physical }
        return min(physical, limit)
    }

    /// The largest model file that may be read into memory (`model.weights: memory`): three quarters of
    /// `limitBytes()`, so the caches and the process keep the rest.
    public static func weightsInMemoryLimitBytes() -> Int { limitBytes() / 4 * 3 }
}
