import Foundation

/// The process's resident memory and the memory it may use, read from Linux's /proc and cgroup files.
public enum ResidentMemory {
    /// Peak resident set size (`VmHWM`), in bytes; nil where /proc is unavailable or the line is missing.
    public static func peakBytes() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            // "VmHWM:     123456 kB"
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 2, let kilobytes = Int(fields[1]) else { return nil }
            return kilobytes * 1024
        }
        return nil
    }

    /// Anonymous memory of the process backed by transparent huge pages (`AnonHugePages` of
    /// /proc/self/smaps_rollup), in bytes; nil where unavailable.
    public static func hugePageBytes() -> Int? {
        guard let rollup = try? String(contentsOfFile: "/proc/self/smaps_rollup", encoding: .utf8) else { return nil }
        for line in rollup.split(separator: "\n") where line.hasPrefix("AnonHugePages:") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 2, let kilobytes = Int(fields[1]) else { return nil }
            return kilobytes * 1024
        }
        return nil
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
}
