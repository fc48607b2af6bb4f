/// Writes findings as one SARIF 2.1.0 log (`sparrow.sarif`), valid against the OASIS schema and within what GitHub
/// code scanning accepts. The log is pretty-printed unless that would pass the byte cap; then it is compact.
///
/// The bytes depend only on the set of findings and the tool description: results are sorted canonically, keys
/// are sorted, and nothing volatile is written. Locations are relative URIs under `%SRCROOT%`; columns count
/// Unicode code points (`run.columnKind`). Each result carries its fingerprint under
/// `partialFingerprints["sparrow/v1"]` and also under `primaryLocationLineHash`, the key GitHub code scanning
/// matches alerts across runs with (it combines it with the path and rule; upload-sarif computes one only when it
/// is absent, and the REST API never does). The task id goes in `properties`.
public struct SARIFWriter: Sendable {
    /// Upper bounds on one log.
    public struct Limits: Sendable, Hashable {
        /// Results per run.
        public var maxResults: Int
        /// Bytes of the uncompressed log.
        public var maxBytes: Int

        /// Limits for a log.
        public init(maxResults: Int, maxBytes: Int) {
            self.maxResults = maxResults
            self.maxBytes = maxBytes
        }

        /// GitHub's: 25,000 results per run, and at most 10 MB once gzipped. Gzip never grows a file by more than
        /// a few hundred bytes per megabyte, so an uncompressed cap of 9,990,000 bytes keeps the gzipped file
        /// under 10 MB by either reading of "MB" without needing zlib here (a real log compresses far below it).
        public static let github = Limits(maxResults: 25_000, maxBytes: 9_990_000)
    }

    /// A written log.
    public struct Output: Sendable, Hashable {
        /// The SARIF document (UTF-8 JSON, ends with a newline).
        public let text: String
        /// How many findings were left out to stay within the limits (the least severe went first); also
        /// recorded in the log as `run.properties["sparrow/omittedResults"]`.
        public let omittedResults: Int
    }

    /// The `partialFingerprints` key Sparrow's fingerprints go under.
    public static let fingerprintKey = "sparrow/v1"

    /// The tool described in `tool.driver`.
    public let tool: ToolInfo
    /// `run.automationDetails.id` (GitHub's analysis category), if any.
    public let category: String?
    /// Size limits.
    public let limits: Limits

    /// A writer for one tool description.
    public init(tool: ToolInfo, category: String? = nil, limits: Limits = .github) {
        self.tool = tool
        self.category = category
        self.limits = limits
    }

    /// Writes the findings (which need fingerprints). Past the limits, the most severe findings are kept.
    public func write(_ findings: [Finding]) throws(AnnotationsError) -> Output {
        for finding in findings where finding.fingerprint.isEmpty {
            throw .missingFingerprint(ruleID: finding.ruleID, path: finding.path, line: finding.range.startLine)
        }
        // Most severe first, then the canonical order, so "keep a prefix" keeps the most severe.
        let byPriority = findings.sorted { lhs, rhs in
            lhs.severity != rhs.severity ? lhs.severity > rhs.severity : Finding.canonicallyPrecedes(lhs, rhs)
        }
        var kept = min(byPriority.count, max(0, limits.maxResults))
        var text = try document(Array(byPriority.prefix(kept)), omitted: byPriority.count - kept, pretty: true)
        if text.utf8.count > limits.maxBytes {
            // Indentation is about half of a pretty log (measured) and is what gzip removes best, but the cap counts it:
            // past the cap the log is written compact, then the largest prefix that fits is kept (size grows with
            // the prefix, so bisect).
            text = try document(Array(byPriority.prefix(kept)), omitted: byPriority.count - kept, pretty: false)
            if text.utf8.count > limits.maxBytes {
                var fits = 0
                var tooBig = kept
                var best: String?
                while tooBig - fits > 1 {
                    let middle = (fits + tooBig) / 2
                    let candidate = try document(Array(byPriority.prefix(middle)), omitted: byPriority.count - middle, pretty: false)
                    if candidate.utf8.count <= limits.maxBytes {
                        fits = middle
                        best = candidate
                    } else {
                        tooBig = middle
                    }
                }
                kept = fits
                if let best {
                    text = best
                } else {
                    text = try document([], omitted: byPriority.count, pretty: false)
                }
            }
        }
        return Output(text: text, omittedResults: byPriority.count - kept)
    }

    private func document(_ findings: [Finding], omitted: Int, pretty: Bool) throws(AnnotationsError) -> String {
        let ordered = findings.canonicallySorted()
        let ruleIDs = Set(ordered.map { ByteKey($0.ruleID) }).sorted()
        var ruleIndex: [ByteKey: Int] = [:]
        for (index, id) in ruleIDs.enumerated() { ruleIndex[id] = index }
        let rules = ruleIDs.map { key -> SARIFRule in
            let id = String(decoding: key.bytes, as: UTF8.self)
            let descriptor = tool.rules[id]
            return SARIFRule(
                id: id, name: descriptor?.name,
                shortDescription: descriptor?.shortDescription.map(SARIFMessage.init),
                help: descriptor?.help.map(SARIFMessage.init))
        }
        let results = ordered.map { finding in
            SARIFResult(
                ruleId: finding.ruleID,
                ruleIndex: ruleIndex[ByteKey(finding.ruleID)] ?? 0,
                level: finding.severity.sarifLevel,
                message: SARIFMessage(text: finding.message),
                locations: [SARIFLocation(physicalLocation: SARIFPhysicalLocation(
                    artifactLocation: SARIFArtifactLocation(uri: TextEncoding.uriReference(forPath: finding.path)),
                    region: SARIFRegion(
                        startLine: finding.range.startLine, startColumn: finding.range.startColumn,
                        endLine: finding.range.endLine, endColumn: finding.range.endColumn)))],
                partialFingerprints: [Self.fingerprintKey: finding.fingerprint, "primaryLocationLineHash": finding.fingerprint],
                fixes: finding.fix.map { fix in
                    [SARIFFix(artifactChanges: [SARIFArtifactChange(
                        artifactLocation: SARIFArtifactLocation(uri: TextEncoding.uriReference(forPath: finding.path)),
                        replacements: [SARIFReplacement(
                            // Lines only: the whole lines without the last line end, as the replacement text.
                            deletedRegion: SARIFRegion(startLine: fix.startLine, startColumn: nil, endLine: fix.endLine, endColumn: nil),
                            insertedContent: SARIFArtifactContent(text: fix.replacement))])])]
                },
                properties: SARIFResultProperties(taskId: finding.taskID))
        }
        let run = SARIFRun(
            tool: SARIFTool(driver: SARIFDriver(
                name: tool.name, version: tool.version, semanticVersion: tool.version,
                informationUri: tool.informationURI, rules: rules)),
            automationDetails: category.map(SARIFAutomationDetails.init),
            results: results,
            properties: SARIFRunProperties(omittedResults: omitted))
        return try JSONText.encode(SARIFLog(runs: [run]), pretty: pretty, format: "SARIF") + "\n"
    }
}
