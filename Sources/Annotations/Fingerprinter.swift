import Hashing
/// Gives every finding a fingerprint that survives unrelated edits, so a rerun updates findings instead of
/// duplicating them.
///
/// The fingerprint is the SHA-256 (hex) of: a version tag, the rule id, the path, the *normalised text* of the
/// flagged lines (each line trimmed, runs of blanks collapsed to one space, blank lines dropped) and an occurrence
/// index. Line numbers are left out, so lines inserted above a finding do not change it. The occurrence index
/// numbers the findings that share rule, path and normalised text in order of position in the file, so two
/// identical lines (or two findings on one line) never share a fingerprint.
public enum Fingerprinter {
    /// Version tag hashed into every fingerprint; change it only with the algorithm.
    public static let version = "sparrow-fingerprint-v1"

    /// The findings, in the order given, with their fingerprints set (existing ones are replaced).
    public static func assign(_ findings: [Finding]) throws(AnnotationsError) -> [Finding] {
        struct GroupKey: Hashable {
            let rule: ByteKey
            let path: ByteKey
            let text: ByteKey
        }
        var groups: [GroupKey: [Int]] = [:]
        var texts: [String] = []
        texts.reserveCapacity(findings.count)
        for (index, finding) in findings.enumerated() {
            let text = normalisedText(finding.flaggedLines)
            texts.append(text)
            groups[GroupKey(rule: ByteKey(finding.ruleID), path: ByteKey(finding.path), text: ByteKey(text)), default: []]
                .append(index)
        }
        var occurrence = [Int](repeating: 0, count: findings.count)
        for members in groups.values {
            // Position first; the canonical order breaks ties the same way whatever the input order was.
            let ordered = members.sorted {
                findings[$0].compareCanonically(to: findings[$1], includingFingerprint: false)
            }
            for (rank, index) in ordered.enumerated() { occurrence[index] = rank }
        }
        var result: [Finding] = []
        result.reserveCapacity(findings.count)
        for (index, finding) in findings.enumerated() {
            let fingerprint = hash(rule: finding.ruleID, path: finding.path, text: texts[index], occurrence: occurrence[index])
            result.append(try finding.withFingerprint(fingerprint))
        }
        return result
    }

    /// The normalised text of some lines, as hashed.
    public static func normalisedText(_ lines: [String]) -> String {
        lines.compactMap { line -> String? in
            let words = line.split(whereSeparator: { $0.isWhitespace })
            return words.isEmpty ? nil : words.joined(separator: " ")
        }.joined(separator: "\n")
    }

    static func hash(rule: String, path: String, text: String, occurrence: Int) -> String {
        // Each field is prefixed with its byte length, so no two different tuples hash the same bytes.
        var bytes: [UInt8] = []
        for field in [version, rule, path, text, String(occurrence)] {
            bytes.append(contentsOf: "\(field.utf8.count):".utf8)
            bytes.append(contentsOf: field.utf8)
        }
        return SHA256.hexDigest(bytes)
    }
}
