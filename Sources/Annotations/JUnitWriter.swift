/// Writes the tasks as JUnit XML (`junit.xml`): one `<testcase>` per task, `failed` tasks as `<failure>`, tasks
/// that could not run (`error`) as `<error>`. A task's findings are listed in its `<system-out>`.
///
/// No `time` or `timestamp` attributes: those belong in `run-info.json`, so the same results give the same bytes.
public struct JUnitWriter: Sendable {
    /// `name` of the suite.
    public let suiteName: String

    /// A writer.
    public init(suiteName: String = "sparrow") {
        self.suiteName = suiteName
    }

    /// The document, ending with a newline. Findings whose task is not among `tasks` are not listed.
    public func write(tasks: [TaskOutcome], findings: [Finding]) -> String {
        let ordered = tasks.sorted { lhs, rhs in
            byteOrder(lhs.id, rhs.id) ?? byteOrder(lhs.kind, rhs.kind)
                ?? byteOrder(lhs.status.rawValue, rhs.status.rawValue) ?? byteOrder(lhs.detail, rhs.detail) ?? false
        }
        var findingsByTask: [ByteKey: [Finding]] = [:]
        for finding in findings.canonicallySorted() { findingsByTask[ByteKey(finding.taskID), default: []].append(finding) }
        let failures = ordered.filter { $0.status == .failed }.count
        let errors = ordered.filter { $0.status == .error }.count
        let counts = "tests=\"\(ordered.count)\" failures=\"\(failures)\" errors=\"\(errors)\""
        let name = TextEncoding.xmlAttribute(suiteName)
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out += "<testsuites name=\"\(name)\" \(counts)>\n"
        out += "  <testsuite name=\"\(name)\" \(counts) skipped=\"0\">\n"
        for task in ordered {
            out += "    <testcase classname=\"\(TextEncoding.xmlAttribute("\(suiteName).\(task.kind)"))\""
            out += " name=\"\(TextEncoding.xmlAttribute(task.id))\">\n"
            let summary = task.detail.split(whereSeparator: \.isNewline).first.map(String.init) ?? task.status.rawValue
            switch task.status {
            case .failed:
                out += "      <failure type=\"failed\" message=\"\(TextEncoding.xmlAttribute(summary))\">"
                    + "\(TextEncoding.xmlText(task.detail))</failure>\n"
            case .error:
                out += "      <error type=\"error\" message=\"\(TextEncoding.xmlAttribute(summary))\">"
                    + "\(TextEncoding.xmlText(task.detail))</error>\n"
            case .ok, .noChange:
                break
            }
            let listed = findingsByTask[ByteKey(task.id)] ?? []
            var systemOut = "status: \(task.status.rawValue)\n"
            if !task.detail.isEmpty, task.status == .ok || task.status == .noChange { systemOut += task.detail + "\n" }
            for finding in listed {
                let column = finding.range.startColumn.map { ":\($0)" } ?? ""
                systemOut += "\(finding.path):\(finding.range.startLine)\(column): \(finding.severity.rawValue): "
                    + "[\(finding.ruleID)] \(finding.message)\n"
            }
            out += "      <system-out>\(TextEncoding.xmlText(systemOut))</system-out>\n"
            out += "    </testcase>\n"
        }
        out += "  </testsuite>\n</testsuites>\n"
        return out
    }
}
