/// What the outputs say about the tool that made them. Nothing volatile (times, hosts, argv) belongs here:
/// those go to `run-info.json`, so the same findings give the same bytes.
public struct ToolInfo: Sendable, Hashable {
    /// Tool name, shown by code scanning (`sparrow`).
    public var name: String
    /// Semantic version of the tool.
    public var version: String
    /// Where to read about the tool, if anywhere.
    public var informationURI: String?
    /// Descriptions of the rules, by rule id; rules without one are listed by id alone.
    public var rules: [String: RuleDescriptor]

    /// Describes the tool.
    public init(name: String = "sparrow", version: String, informationURI: String? = nil, rules: [String: RuleDescriptor] = [:]) {
        self.name = name
        self.version = version
        self.informationURI = informationURI
        self.rules = rules
    }
}

/// A human description of one rule (SARIF `reportingDescriptor`).
public struct RuleDescriptor: Sendable, Hashable {
    /// A short name, such as `NoForceUnwrap`.
    public var name: String?
    /// One sentence.
    public var shortDescription: String?
    /// Longer help text.
    public var help: String?

    /// Describes a rule.
    public init(name: String? = nil, shortDescription: String? = nil, help: String? = nil) {
        self.name = name
        self.shortDescription = shortDescription
        self.help = help
    }
}
