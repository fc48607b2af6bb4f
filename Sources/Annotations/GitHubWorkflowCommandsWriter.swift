/// Writes findings as GitHub Actions workflow commands (`::error file=…,line=…::message`), which the runner turns
/// into annotations on the pull request.
///
/// Escaping follows the Actions toolkit (`@actions/core` `command.ts`): in the message `%`, `\r` and `\n` become
/// `%25`, `%0D`, `%0A`; in properties `:` and `,` also become `%3A` and `%2C`. GitHub shows at most 10
/// annotations of each type per step, so past 10 the writer prints 9 and a tenth that counts the rest and points to
/// the step summary (`GitHubStepSummaryWriter`), which lists them all.
public struct GitHubWorkflowCommandsWriter: Sendable {
    /// Annotations GitHub shows per type (error, warning, notice) per step.
    public static let annotationsPerType = 10

    /// A writer.
    public init() {}

    /// The commands, one per line, each ending with `\n`: errors first, then warnings, then notices.
    public func write(_ findings: [Finding]) -> String {
        let ordered = findings.canonicallySorted()
        var out = ""
        for severity in Severity.allCases.reversed() {
            let ofType = ordered.filter { $0.severity == severity }
            let shown = ofType.count <= Self.annotationsPerType ? ofType : Array(ofType.prefix(Self.annotationsPerType - 1))
            for finding in shown { out += command(for: finding) + "\n" }
            let hidden = ofType.count - shown.count
            if hidden > 0 {
                let noun = hidden == 1 ? "finding" : "findings"
                out += "::\(severity.githubCommand) title=\(Self.escapeProperty("sparrow"))::"
                    + Self.escapeData("\(hidden) more \(severity.rawValue) \(noun) not shown as annotations; see the step summary.")
                    + "\n"
            }
        }
        return out
    }

    /// One command for one finding.
    func command(for finding: Finding) -> String {
        let range = finding.range
        var properties: [(String, String)] = [
            ("file", finding.path), ("line", String(range.startLine)), ("endLine", String(range.endLine)),
        ]
        if let column = range.startColumn { properties.append(("col", String(column))) }
        if let column = range.endColumn { properties.append(("endColumn", String(column))) }
        properties.append(("title", finding.ruleID))
        let propertyText = properties.map { "\($0.0)=\(Self.escapeProperty($0.1))" }.joined(separator: ",")
        return "::\(finding.severity.githubCommand) \(propertyText)::\(Self.escapeData(finding.message))"
    }

    /// The toolkit's `escapeData`.
    static func escapeData(_ text: String) -> String {
        escape(text, alsoPropertySeparators: false)
    }

    /// The toolkit's `escapeProperty`.
    static func escapeProperty(_ text: String) -> String {
        escape(text, alsoPropertySeparators: true)
    }

    private static func escape(_ text: String, alsoPropertySeparators: Bool) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "%": out += "%25"
            case "\r": out += "%0D"
            case "\n": out += "%0A"
            case ":" where alsoPropertySeparators: out += "%3A"
            case "," where alsoPropertySeparators: out += "%2C"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
