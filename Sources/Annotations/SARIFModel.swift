// The part of the SARIF 2.1.0 object model that Sparrow writes (names as in the OASIS schema,
// Tests/AnnotationsTests/Fixtures/sarif-schema-2.1.0.json). Optional members are left out when nil.

struct SARIFLog: Encodable {
    let schema = "https://json.schemastore.org/sarif-2.1.0.json"
    let version = "2.1.0"
    let runs: [SARIFRun]
    enum CodingKeys: String, CodingKey { case schema = "$schema", version, runs }
}

struct SARIFRun: Encodable {
    let tool: SARIFTool
    let automationDetails: SARIFAutomationDetails?
    let columnKind = "unicodeCodePoints"
    let results: [SARIFResult]
    let properties: SARIFRunProperties
}

struct SARIFRunProperties: Encodable {
    /// Results left out to stay within GitHub's limits (the least severe go first).
    let omittedResults: Int
    enum CodingKeys: String, CodingKey { case omittedResults = "sparrow/omittedResults" }
}

struct SARIFAutomationDetails: Encodable {
    let id: String
}

struct SARIFTool: Encodable {
    let driver: SARIFDriver
}

struct SARIFDriver: Encodable {
    let name: String
    let version: String
    let semanticVersion: String
    let informationUri: String?
    let rules: [SARIFRule]
}

struct SARIFRule: Encodable {
    let id: String
    let name: String?
    let shortDescription: SARIFMessage?
    let help: SARIFMessage?
}

struct SARIFMessage: Encodable {
    let text: String
}

struct SARIFResult: Encodable {
    let ruleId: String
    let ruleIndex: Int
    let level: String
    let message: SARIFMessage
    let locations: [SARIFLocation]
    let partialFingerprints: [String: String]
    let fixes: [SARIFFix]?
    let properties: SARIFResultProperties
}

struct SARIFResultProperties: Encodable {
    let taskId: String
    enum CodingKeys: String, CodingKey { case taskId = "sparrow/taskId" }
}

struct SARIFLocation: Encodable {
    let physicalLocation: SARIFPhysicalLocation
}

struct SARIFPhysicalLocation: Encodable {
    let artifactLocation: SARIFArtifactLocation
    let region: SARIFRegion
}

struct SARIFArtifactLocation: Encodable {
    let uri: String
    let uriBaseId = "%SRCROOT%"
}

struct SARIFRegion: Encodable {
    let startLine: Int
    let startColumn: Int?
    let endLine: Int
    let endColumn: Int?
}

struct SARIFFix: Encodable {
    let artifactChanges: [SARIFArtifactChange]
}

struct SARIFArtifactChange: Encodable {
    let artifactLocation: SARIFArtifactLocation
    let replacements: [SARIFReplacement]
}

struct SARIFReplacement: Encodable {
    let deletedRegion: SARIFRegion
    let insertedContent: SARIFArtifactContent
}

struct SARIFArtifactContent: Encodable {
    let text: String
}
