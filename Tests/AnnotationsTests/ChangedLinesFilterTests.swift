import Testing

@testable import Annotations

@Suite struct ChangedLinesFilterTests {
    /// Lines 10–11 added, 7–9 and 12–14 context (git's three lines of context), in one file.
    private let changes = ChangedLines(files: [
        "Sources/A.swift": .init(added: [10, 11], context: [7, 8, 9, 12, 13, 14]),
        "Sources/OnlyDeletions.swift": .init(added: [], context: [1, 2, 3]),
    ])

    private func finding(_ path: String, _ start: Int, _ end: Int? = nil) throws -> Finding {
        try Finding(ruleID: "r", severity: .warning, message: "m", path: path, range: SourceRange(startLine: start, endLine: end), taskID: "t")
    }

    @Test func placesEachFinding() throws {
        let filter = ChangedLinesFilter(changes: changes, mode: .added)
        #expect(filter.place(try finding("Sources/A.swift", 10)) == .onAddedLine)
        #expect(filter.place(try finding("Sources/A.swift", 5, 10)) == .onAddedLine)
        #expect(filter.place(try finding("Sources/A.swift", 13)) == .onContextLine)
        #expect(filter.place(try finding("Sources/A.swift", 100)) == .elsewhereInChangedFile)
        #expect(filter.place(try finding("Sources/OnlyDeletions.swift", 50)) == .elsewhereInChangedFile)
        #expect(filter.place(try finding("Sources/B.swift", 10)) == .outsideDiff)
    }

    /// reviewdog's `-filter-mode` semantics (filter/diff_filter.go): added < diff_context < file < nofilter.
    @Test(arguments: [
        (FilterMode.added, [true, false, false, false]),
        (FilterMode.diffContext, [true, true, false, false]),
        (FilterMode.file, [true, true, true, false]),
        (FilterMode.noFilter, [true, true, true, true]),
    ])
    func modesKeepWhatReviewdogKeeps(mode: FilterMode, expected: [Bool]) throws {
        let findings = try [
            finding("Sources/A.swift", 11), finding("Sources/A.swift", 8), finding("Sources/A.swift", 200),
            finding("Elsewhere.swift", 11),
        ]
        let filtered = ChangedLinesFilter(changes: changes, mode: mode).apply(findings)
        #expect(filtered.map(\.finding) == findings, "the filter marks findings and drops none")
        #expect(filtered.map(\.isReported) == expected)
    }

    @Test func countsWhatItDidNotReport() throws {
        let findings = try [
            finding("Sources/A.swift", 11), finding("Sources/A.swift", 8), finding("Sources/A.swift", 9),
            finding("Sources/A.swift", 200), finding("Elsewhere.swift", 11),
        ]
        let filtered = ChangedLinesFilter(changes: changes, mode: .added).apply(findings)
        #expect(filtered.reported == [findings[0]])
        #expect(filtered.unreportedCounts == [.onContextLine: 2, .elsewhereInChangedFile: 1, .outsideDiff: 1])
        #expect(ChangedLinesFilter(changes: changes, mode: .noFilter).apply(findings).unreportedCounts.isEmpty)
    }

    @Test func modeNamesAreReviewdogs() {
        #expect(FilterMode.allCases.map(\.rawValue) == ["added", "diff_context", "file", "nofilter"])
    }

    @Test func pathsCompareByBytes() throws {
        let changes = ChangedLines(files: ["é.swift": .init(added: [1])])
        let filter = ChangedLinesFilter(changes: changes, mode: .added)
        #expect(filter.place(try finding("é.swift", 1)) == .onAddedLine)
        #expect(filter.place(try finding("e\u{301}.swift", 1)) == .outsideDiff)
    }
}
