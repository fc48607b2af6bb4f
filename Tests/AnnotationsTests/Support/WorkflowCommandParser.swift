/// Parses one workflow-command line the way the GitHub Actions runner reads it (`ActionCommand.TryParseV2` in
/// actions/runner): `::name k=v,k=v::message`, properties split at `,` then at the first `=`, values unescaped
/// %0D %0A %3A %2C %25, the message unescaped %0D %0A %25. Works on bytes, as the runner works on code units (a
/// combining mark after `::` must not hide the separator).
struct WorkflowCommand: Equatable {
    var name: String
    var properties: [String: String]
    var message: String

    init(name: String, properties: [String: String], message: String) {
        self.name = name
        self.properties = properties
        self.message = message
    }

    init?(line: String) {
        let bytes = Array(line.utf8)
        let colon = UInt8(ascii: ":")
        guard bytes.count >= 2, bytes[0] == colon, bytes[1] == colon else { return nil }
        guard let end = (2..<max(2, bytes.count - 1)).first(where: { bytes[$0] == colon && bytes[$0 + 1] == colon }) else {
            return nil
        }
        let head = Array(bytes[2..<end])
        message = Self.unescape(Array(bytes[(end + 2)...]), property: false)
        let nameEnd = head.firstIndex(of: UInt8(ascii: " ")) ?? head.count
        name = String(decoding: head[..<nameEnd], as: UTF8.self)
        properties = [:]
        if nameEnd < head.count {
            for pair in head[(nameEnd + 1)...].split(separator: UInt8(ascii: ","), omittingEmptySubsequences: true) {
                guard let equals = pair.firstIndex(of: UInt8(ascii: "=")) else { continue }
                properties[String(decoding: pair[..<equals], as: UTF8.self)] =
                    Self.unescape(Array(pair[(equals + 1)...]), property: true)
            }
        }
    }

    private static func unescape(_ bytes: [UInt8], property: Bool) -> String {
        var result = replace(bytes, "%0D", "\r")
        result = replace(result, "%0A", "\n")
        if property {
            result = replace(result, "%3A", ":")
            result = replace(result, "%2C", ",")
        }
        return String(decoding: replace(result, "%25", "%"), as: UTF8.self)
    }

    private static func replace(_ source: [UInt8], _ target: String, _ replacement: String) -> [UInt8] {
        let needle = Array(target.utf8)
        var out: [UInt8] = []
        var index = 0
        while index < source.count {
            if index + needle.count <= source.count, Array(source[index..<(index + needle.count)]) == needle {
                out.append(contentsOf: replacement.utf8)
                index += needle.count
            } else {
                out.append(source[index])
                index += 1
            }
        }
        return out
    }
}
