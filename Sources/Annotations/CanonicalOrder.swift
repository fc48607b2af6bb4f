// Writers sort findings before writing so that the same findings in any order give the same bytes. Swift's `<`
// and `==` on String follow Unicode canonical equivalence ("é" == "e\u{301}"), so two different byte strings can
// compare equal and keep their input order; every comparison here is on UTF-8 bytes instead.

/// A string compared and hashed by its UTF-8 bytes, for grouping and sorting without canonical equivalence.
struct ByteKey: Hashable, Comparable, Sendable {
    let bytes: [UInt8]
    init(_ string: String) { bytes = Array(string.utf8) }
    static func < (lhs: ByteKey, rhs: ByteKey) -> Bool { lhs.bytes.lexicographicallyPrecedes(rhs.bytes) }
}

/// Orders two strings by UTF-8 bytes; returns nil when they are byte-identical.
func byteOrder(_ lhs: String, _ rhs: String) -> Bool? {
    if lhs.utf8.elementsEqual(rhs.utf8) { return nil }
    return lhs.utf8.lexicographicallyPrecedes(rhs.utf8)
}

extension Finding {
    /// The total order every writer uses: path, position, rule, severity (most severe first), message, task, fix,
    /// flagged text, fingerprint. Findings equal under it are byte-identical, so their relative order cannot show.
    static func canonicallyPrecedes(_ lhs: Finding, _ rhs: Finding) -> Bool {
        lhs.compareCanonically(to: rhs, includingFingerprint: true)
    }

    /// `canonicallyPrecedes` with the fingerprint left out (used while fingerprints are being assigned).
    func compareCanonically(to other: Finding, includingFingerprint: Bool) -> Bool {
        if let order = byteOrder(path, other.path) { return order }
        if range != other.range { return range < other.range }
        if let order = byteOrder(ruleID, other.ruleID) { return order }
        if severity != other.severity { return severity > other.severity }
        if let order = byteOrder(message, other.message) { return order }
        if let order = byteOrder(taskID, other.taskID) { return order }
        switch (fix, other.fix) {
        case (nil, .some): return true
        case (.some, nil): return false
        case let (.some(a), .some(b)):
            if (a.startLine, a.endLine) != (b.startLine, b.endLine) { return (a.startLine, a.endLine) < (b.startLine, b.endLine) }
            if let order = byteOrder(a.replacement, b.replacement) { return order }
        case (nil, nil): break
        }
        if flaggedLines.count != other.flaggedLines.count { return flaggedLines.count < other.flaggedLines.count }
        for (a, b) in zip(flaggedLines, other.flaggedLines) {
            if let order = byteOrder(a, b) { return order }
        }
        if includingFingerprint, let order = byteOrder(fingerprint, other.fingerprint) { return order }
        return false
    }
}

extension Sequence<Finding> {
    /// The findings in the canonical order.
    func canonicallySorted() -> [Finding] { sorted(by: Finding.canonicallyPrecedes) }
}
