/// Writes a Markdown summary of the findings for `$GITHUB_STEP_SUMMARY`.
///
/// GitHub caps one step's summary at 1 MiB, so the table lists at most `maxRows` findings (most severe first) with
/// messages cut to `maxMessageCharacters`, stops before the text passes `maxBytes`, and says how many more there
/// are; the SARIF file has them all.
public struct GitHubStepSummaryWriter: Sendable {
    /// Findings listed in the table.
    public let maxRows: Int
    /// Characters of a message shown in the table.
    public let maxMessageCharacters: Int
    /// Bytes of the whole summary.
    public let maxBytes: Int

    /// A writer; the defaults keep the summary below GitHub's 1 MiB (1,048,576 bytes).
    public init(maxRows: Int = 500, maxMessageCharacters: Int = 300, maxBytes: Int = 1_000_000) {
        self.maxRows = maxRows
        self.maxMessageCharacters = maxMessageCharacters
        self.maxBytes = maxBytes
    }

    /// The Markdown text, ending with a newline.
    public func write(_ findings: [Finding]) -> String {
        let ordered = findings.sorted { lhs, rhs in
            lhs.severity != rhs.severity ? lhs.severity > rhs.severity : Finding.canonicallyPrecedes(lhs, rhs)
        }
        var out = "## Sparrow findings\n\n"
        if ordered.isEmpty { return out + "No findings.\n" }
        out += "| severity | count |\n| --- | ---: |\n"
        for severity in Severity.allCases.reversed() {
            out += "| \(severity.rawValue) | \(ordered.filter { $0.severity == severity }.count) |\n"
        }
        out += "\n| severity | location | rule | message |\n| --- | --- | --- | --- |\n"
        // Room for the closing line, whose count has at most 20 digits.
        let budget = maxBytes - 80
        var listed = 0
        for finding in ordered.prefix(maxRows) {
            let location = "\(finding.path):\(finding.range.startLine)"
            let row = "| \(finding.severity.rawValue) | \(Self.cell(location)) | \(Self.cell(finding.ruleID)) | "
                + "\(Self.cell(shortened(finding.message))) |\n"
            if out.utf8.count + row.utf8.count > budget { break }
            out += row
            listed += 1
        }
        if ordered.count > listed {
            out += "\n…and \(ordered.count - listed) more; the SARIF file lists them all.\n"
        }
        return out
    }

    private func shortened(_ message: String) -> String {
        guard message.count > maxMessageCharacters else { return message }
        return String(message.prefix(maxMessageCharacters)) + "…"
    }

    /// Text made safe for one Markdown table cell: line ends become spaces, Markdown and HTML punctuation is
    /// backslash-escaped (CommonMark treats any escaped ASCII punctuation as literal), `|` cannot end the cell.
    static func cell(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n", "\r", "\u{0B}", "\u{0C}", "\u{85}", "\u{2028}", "\u{2029}": out += " "
            case "\\", "`", "*", "_", "[", "]", "<", ">", "|", "#", "!", "~", "&", "{", "}", "(", ")", "$":
                out += "\\"
                out.unicodeScalars.append(scalar)
            default:
                if scalar.properties.generalCategory == .control {
                    out += "\u{FFFD}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}
