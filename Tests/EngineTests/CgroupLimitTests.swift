import Foundation
@testable import Engine
import Testing

/// The memory limit of the process's cgroup, read as a container sets it: cgroup v2's `memory.max`, cgroup v1's
/// `memory.limit_in_bytes` (at the group's path, and at the root, which is what a container without a cgroup
/// namespace sees).
@Suite struct CgroupLimitTests {
    /// A fake cgroup filesystem: `files` (path under the root → contents) in a temporary folder.
    static func withRoot(_ files: [String: String], _ body: (String) throws -> Void) throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-cgroup-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        for (path, text) in files {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        try body(root.path)
    }

    @Test("cgroup v2: memory.max of the group, or of the root in a namespace; 'max' is no limit")
    func version2() throws {
        try Self.withRoot(["job/memory.max": "8589934592\n", "memory.max": "max\n"]) { root in
            #expect(ResidentMemory.cgroupLimitBytes(membership: "0::/job\n", root: root) == 8 << 30)
            #expect(ResidentMemory.cgroupLimitBytes(membership: "0::/\n", root: root) == nil)
        }
    }

    @Test("cgroup v1: memory.limit_in_bytes at the group's path and at the root, the lower wins; none set is nil")
    func version1() throws {
        let membership = "9:name=systemd:/\n4:memory:/docker/abc\n3:cpu,cpuacct:/docker/abc\n0::/\n"
        try Self.withRoot(["memory/docker/abc/memory.limit_in_bytes": "4294967296\n",
                           "memory/memory.limit_in_bytes": "9223372036854771712\n"]) { root in
            #expect(ResidentMemory.cgroupLimitBytes(membership: membership, root: root) == 4 << 30)
        }
        // Inside the container: the host's path is not mounted, the container's own group is the root.
        try Self.withRoot(["memory/memory.limit_in_bytes": "2147483648\n"]) { root in
            #expect(ResidentMemory.cgroupLimitBytes(membership: membership, root: root) == 2 << 30)
        }
        // Controllers listed together ("cpu,memory") count; an unlimited group reads as the huge number.
        try Self.withRoot(["memory/x/memory.limit_in_bytes": "9223372036854771712\n"]) { root in
            #expect(ResidentMemory.cgroupLimitBytes(membership: "5:cpu,memory:/x\n", root: root) == 9_223_372_036_854_771_712)
        }
        try Self.withRoot([:]) { root in
            #expect(ResidentMemory.cgroupLimitBytes(membership: membership, root: root) == nil)
        }
    }

    @Test("the limit is never above the machine's RAM")
    func neverAboveRAM() {
        #expect(ResidentMemory.limitBytes() <= Int(ProcessInfo.processInfo.physicalMemory))
        #expect(ResidentMemory.limitBytes() > 0)
    }
}
