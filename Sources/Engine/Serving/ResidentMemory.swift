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

    /// The memory this process may use: the machine's RAM, or its cgroup's memory limit (as in a container) when
    /// that is lower.
    public static func limitBytes() -> Int {
        let physical = Int(ProcessInfo.processInfo.physicalMemory)
        guard let membership = try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8) else { return physical }
        return min(physical, cgroupLimitBytes(membership: membership, root: "/sys/fs/cgroup") ?? physical)
    }

    /// The lowest memory limit of the cgroups in `membership` (the text of /proc/self/cgroup) under the cgroup
    /// filesystem at `root`; nil when none is set. cgroup v2 (`0::/path`): `memory.max` ("max": none). cgroup v1
    /// (`N:…memory…:/path`, still the layout of many Docker and Kubernetes hosts): `memory/path/memory.limit_in_bytes`
    /// (a huge number when none), and `memory/memory.limit_in_bytes` as well, because inside a container without
    /// a cgroup namespace the path names the host's hierarchy while the container sees its own group at the root.
    static func cgroupLimitBytes(membership: String, root: String) -> Int? {
        var files: [String] = []
        for line in membership.split(separator: "\n") {
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3 else { continue }
            let group = fields[2] == "/" ? "" : String(fields[2])
            if fields[0] == "0" && fields[1].isEmpty {
                files.append(root + group + "/memory.max")
            } else if fields[1].split(separator: ",").contains("memory") {
                files.append(root + "/memory" + group + "/memory.limit_in_bytes")
                files.append(root + "/memory/memory.limit_in_bytes")
            }
        }
        let limits = files.compactMap { file -> Int? in
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return nil }
            return Int(text.trimmingCharacters(in: .whitespacesAndNewlines))  // "max": no limit
        }
        return limits.filter { $0 > 0 }.min()
    }

    /// The largest model file that may be read into memory (`model.weights: memory`): three quarters of
    /// `limitBytes()`, so the caches and the process keep the rest.
    public static func weightsInMemoryLimitBytes() -> Int { limitBytes() / 4 * 3 }
}
