/// Writes findings as checkstyle XML (`checkstyle.xml`), the format many CI dashboards and reviewdog read: one
/// `<file>` per path, one `<error>` per finding, `source` = `sparrow.<rule id>`.
///
/// XML 1.0 cannot carry most control characters at all; they are written as U+FFFD.
public struct CheckstyleWriter: Sendable {
    /// A writer.
    public init() {}

    /// The document, ending with a newline.
    public func write(_ findings: [Finding]) -> String {
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<checkstyle version=\"4.3\">\n"
        var currentPath: [UInt8]?
        for finding in findings.canonicallySorted() {
            let path = Array(finding.path.utf8)
            if path != currentPath {
                if currentPath != nil { out += "  </file>\n" }
                out += "  <file name=\"\(TextEncoding.xmlAttribute(finding.path))\">\n"
                currentPath = path
            }
            out += "    <error line=\"\(finding.range.startLine)\""
            if let column = finding.range.startColumn { out += " column=\"\(column)\"" }
            out += " severity=\"\(finding.severity.checkstyleSeverity)\""
            out += " message=\"\(TextEncoding.xmlAttribute(finding.message))\""
            out += " source=\"\(TextEncoding.xmlAttribute("sparrow." + finding.ruleID))\"/>\n"
        }
        if currentPath != nil { out += "  </file>\n" }
        return out + "</checkstyle>\n"
    }
}
