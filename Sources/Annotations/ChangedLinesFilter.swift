/// Which findings to report, relative to a diff; the modes and their names are reviewdog's `-filter-mode`.
public enum FilterMode: String, Sendable, Hashable, Codable, CaseIterable {
    /// Only findings on lines the diff added (the default).
    case added
    /// Findings on any line the diff shows: added lines and their context lines.
    case diffContext = "diff_context"
    /// Findings anywhere in a file the diff touches.
    case file
    /// Every finding.
    case noFilter = "nofilter"
}

/// The lines of the head commit that a diff shows, per file, as the `Git` module computes them.
public struct ChangedLines: Sendable {
    /// One file of the diff, by its head-side path.
    public struct File: Sendable, Equatable {
        /// Head-side line numbers of added lines.
        public var added: Set<Int>
        /// Head-side line numbers of unchanged lines shown around them (the hunks' context).
        public var context: Set<Int>
        /// Makes a file entry; a file with neither (say, only deletions) still counts as in the diff.
        public init(added: Set<Int>, context: Set<Int> = []) {
            self.added = added
            self.context = context
        }
    }

    private var files: [ByteKey: File]

    /// The diff's files keyed by head-side path, relative to the repository root.
    public init(files: [String: File]) {
        var byBytes: [ByteKey: File] = [:]
        for (path, file) in files { byBytes[ByteKey(path), default: File(added: [])].merge(file) }
        self.files = byBytes
    }

    func file(_ path: String) -> File? { files[ByteKey(path)] }
}

extension ChangedLines.File {
    fileprivate mutating func merge(_ other: Self) {
        added.formUnion(other.added)
        context.formUnion(other.context)
    }
}

/// A finding with the filter's verdict on it: nothing is dropped silently, the caller counts what was not
/// reported.
public struct FilteredFinding: Sendable, Hashable {
    /// Where the finding sits relative to the diff.
    public enum Placement: String, Sendable, Hashable, Codable {
        /// At least one of its lines was added by the diff.
        case onAddedLine = "added"
        /// None added, but at least one is a context line of the diff.
        case onContextLine = "context"
        /// In a file of the diff, on lines the diff does not show.
        case elsewhereInChangedFile = "file"
        /// In a file the diff does not touch.
        case outsideDiff = "outside"
    }

    /// The finding, unchanged.
    public let finding: Finding
    /// Where it sits.
    public let placement: Placement
    /// Whether the mode keeps it.
    public let isReported: Bool
}

/// The changed-lines filter: a pure function of the diff, the mode and the findings.
public struct ChangedLinesFilter: Sendable {
    /// The diff's lines.
    public let changes: ChangedLines
    /// The mode.
    public let mode: FilterMode

    /// A filter for one diff and mode.
    public init(changes: ChangedLines, mode: FilterMode) {
        self.changes = changes
        self.mode = mode
    }

    /// Marks each finding, in the order given. A finding spanning several lines counts as on an added (or
    /// context) line when any of its lines is.
    public func apply(_ findings: [Finding]) -> [FilteredFinding] {
        findings.map { finding in
            let placement = place(finding)
            return FilteredFinding(finding: finding, placement: placement, isReported: reports(placement))
        }
    }

    func place(_ finding: Finding) -> FilteredFinding.Placement {
        guard let file = changes.file(finding.path) else { return .outsideDiff }
        let lines = finding.range.startLine...finding.range.endLine
        if lines.contains(where: file.added.contains) { return .onAddedLine }
        if lines.contains(where: file.context.contains) { return .onContextLine }
        return .elsewhereInChangedFile
    }

    func reports(_ placement: FilteredFinding.Placement) -> Bool {
        switch (mode, placement) {
        case (.noFilter, _): true
        case (.file, .outsideDiff): false
        case (.file, _): true
        case (.diffContext, .onAddedLine), (.diffContext, .onContextLine): true
        case (.diffContext, _): false
        case (.added, .onAddedLine): true
        case (.added, _): false
        }
    }
}

extension Sequence<FilteredFinding> {
    /// The findings the mode keeps, in order.
    public var reported: [Finding] { filter(\.isReported).map(\.finding) }

    /// How many findings the mode did not keep, by placement: what the journal records as skipped.
    public var unreportedCounts: [FilteredFinding.Placement: Int] {
        var counts: [FilteredFinding.Placement: Int] = [:]
        for item in self where !item.isReported { counts[item.placement, default: 0] += 1 }
        return counts
    }
}
