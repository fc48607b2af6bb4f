/// `sandbox_limits:` in `defaults` and in patch and tests tasks.
extension SpecDecoder {
    /// Reads a `sandbox_limits` mapping at `path` over `base` (keys not named keep `base`'s values).
    mutating func decodeSandboxLimits(_ node: YAMLNode, path: String, base: SandboxLimitSettings) -> SandboxLimitSettings {
        var limits = base
        guard let section = mapping(node, path: path, expected: "a mapping of sandbox limits (processes, file_size, memory, cpu_time, wall_clock, tmpfs, output)") else {
            return limits
        }
        rejectUnknownKeys(section, allowed: SpecSchema.keyNames(in: .sandboxLimits), sectionName: "sandbox_limits")
        if let node = section["processes"], let value = integer(node, path: section.path(of: "processes"), in: SandboxLimitSettings.processRange) {
            limits.processes = value
        }
        if let node = section["file_size"], let value = byteCount(node, path: section.path(of: "file_size"), in: SandboxLimitSettings.fileSizeRange) {
            limits.fileSize = value
        }
        if let node = section["memory"], let value = byteCount(node, path: section.path(of: "memory"), in: SandboxLimitSettings.memoryRange) {
            limits.memory = value
        }
        if let node = section["cpu_time"], let value = limitDuration(node, path: section.path(of: "cpu_time")) {
            limits.cpuTime = value
        }
        if let node = section["wall_clock"], let value = limitDuration(node, path: section.path(of: "wall_clock")) {
            limits.wallClock = value
        }
        if let node = section["tmpfs"], let value = byteCount(node, path: section.path(of: "tmpfs"), in: SandboxLimitSettings.tmpfsRange) {
            limits.tmpfs = value
        }
        if let node = section["output"], let value = byteCount(node, path: section.path(of: "output"), in: SandboxLimitSettings.outputRange) {
            limits.output = value
        }
        return limits
    }

    /// A byte size (`512MiB`, `1GiB`, `1.5GB` or bytes) within `range`.
    private mutating func byteCount(_ node: YAMLNode, path: String, in range: ClosedRange<Int64>) -> ByteCount? {
        let low = ByteCount(bytes: range.lowerBound)
        let high = ByteCount(bytes: range.upperBound)
        let expected = "a byte size from \(low) to \(high), such as 512MiB, 2GiB or a number of bytes"
        // A plain YAML integer is a number of bytes; its text parses the same way.
        guard let text = string(node, path: path, expected: expected) else { return nil }
        guard let value = ByteCount(parsing: text), range.contains(value.bytes) else {
            error("\(path): expected \(expected), found \(ScalarValue.quote(text))", at: node.location)
            return nil
        }
        return value
    }

    /// A duration (`90s`, `10m`, `1h30m` or seconds) from 1s to 24h.
    private mutating func limitDuration(_ node: YAMLNode, path: String) -> DurationSpec? {
        let expected = "a duration from 1s to 24h, such as 90s, 10m or 1h30m"
        guard let text = string(node, path: path, expected: expected) else { return nil }
        guard let value = DurationSpec(parsing: text), SandboxLimitSettings.durationRange.contains(value.seconds) else {
            error("\(path): expected \(expected), found \(ScalarValue.quote(text))", at: node.location)
            return nil
        }
        return value
    }
}
