import Foundation

/// The sections of a version-1 spec: top level, `model`, `defaults`, `tasks`, `outputs`.
extension SpecDecoder {
    static let supportedVersion = 1

    /// Decodes the whole spec; nil when anything was recorded as an error.
    mutating func decodeSpec(_ root: YAMLNode, baseDirectory: String) -> JobSpec? {
        let expectedTop = "a mapping with the keys version, model and tasks"
        guard let top = mapping(root, path: "", expected: expectedTop) else { return nil }
        // Top-level keys starting with `x-` are ignored: a place to define YAML anchors (as in Compose files).
        var checkedTop = top
        checkedTop.entries.removeAll { $0.key.hasPrefix("x-") }
        rejectUnknownKeys(checkedTop, allowed: SpecSchema.keyNames(in: .top), sectionName: "the spec")

        var version = Self.supportedVersion
        if let node = top["version"] {
            switch node.scalar.map(ScalarValue.init) {
            case let .integer(value)? where node.scalar?.tag == nil:
                if value != Self.supportedVersion {
                    error("version: unsupported version \(value); this Sparrow reads version \(Self.supportedVersion)", at: node.location)
                }
                version = value
            default:
                _ = integer(node, path: "version", in: Self.supportedVersion...Self.supportedVersion)
            }
        } else {
            error("the spec: missing required key \"version\" (write `version: 1` first)", at: top.location)
        }

        var model: ModelSettings?
        if let node = top["model"] {
            model = decodeModel(node)
        } else {
            error("the spec: missing required key \"model\" (a mapping with `path:` or `url:`)", at: top.location)
        }

        var repository = Located(".", at: top.location)
        if let node = top["repository"], let text = string(node, path: "repository", expected: "a folder path") {
            checkVariables(text, path: "repository", at: node.location)
            repository = Located(text, at: node.location)
        }

        var defaults = GenerationSettings()
        var defaultLimits = SandboxLimitSettings()
        if let node = top["defaults"], let section = mapping(node, path: "defaults", expected: "a mapping of generation settings") {
            rejectUnknownKeys(section, allowed: SpecSchema.keyNames(in: .defaults), sectionName: "defaults")
            defaults = decodeGeneration(section, base: defaults, context: model?.context)
            if let limits = section["sandbox_limits"] {
                defaultLimits = decodeSandboxLimits(limits, path: section.path(of: "sandbox_limits"), base: defaultLimits)
            }
        }

        var sandbox = SandboxMode.bwrap
        if let node = top["sandbox"], let mode: SandboxMode = choice(node, path: "sandbox") {
            sandbox = mode
            if mode == .none {
                warning("sandbox: none: model-written code will run without isolation", at: node.location)
            }
        }

        var tasks: [TaskSpec] = []
        if let node = top["tasks"] {
            tasks = decodeTasks(node, defaults: defaults, limits: defaultLimits, context: model?.context)
        } else {
            error("the spec: missing required key \"tasks\" (a list of review, patch or tests tasks)", at: top.location)
        }

        var outputs = OutputSettings(directory: "sparrow-out", formats: [.sarif, .junit], failOn: .error)
        if let node = top["outputs"] {
            outputs = decodeOutputs(node, defaults: outputs)
        }

        guard diagnostics.isEmpty, let model else { return nil }
        return JobSpec(
            file: file, baseDirectory: baseDirectory, version: version, model: model, repository: repository,
            sandbox: sandbox, tasks: tasks, outputs: outputs
        )
    }

    // MARK: model

    private mutating func decodeModel(_ node: YAMLNode) -> ModelSettings? {
        guard let section = mapping(node, path: "model", expected: "a mapping with `path:` (a GGUF file) or `url:` (a server)") else {
            return nil
        }
        rejectUnknownKeys(section, allowed: SpecSchema.keyNames(in: .model), sectionName: "model")

        var source: ModelSource?
        let pathNode = section["path"]
        let urlNode = section["url"]
        switch (pathNode, urlNode) {
        case let (pathNode?, urlNode?):
            error("model.url: `url` and `path` exclude each other; a model is a local file or a server (path is at \(pathNode.location))", at: urlNode.location)
        case let (pathNode?, nil):
            if let path = string(pathNode, path: "model.path", expected: "a path to a GGUF file") {
                checkVariables(path, path: "model.path", at: pathNode.location)
                source = .file(path: Located(path, at: pathNode.location))
            }
            for key in ["name", "api_key_env", "timeout"] {
                if let stray = section.entries.first(where: { $0.key == key }) {
                    error("model.\(key): goes with `url` (a server), not with `path`", at: stray.keyLocation)
                }
            }
        case let (nil, urlNode?):
            source = decodeServer(section, urlNode: urlNode)
            if let stray = section.entries.first(where: { $0.key == "weights" }) {
                error("model.weights: goes with `path` (a local model), not with `url`", at: stray.keyLocation)
            }
        case (nil, nil):
            error("model: missing `path` (a GGUF file) or `url` (an OpenAI-compatible server)", at: section.location)
        }

        var context: Int?
        if let node = section["context"] { context = integer(node, path: "model.context", in: 256...1_048_576) }
        var threads = 0
        if let node = section["threads"], let value = integer(node, path: "model.threads", in: 0...1024) { threads = value }
        var parallel = 4
        if let node = section["parallel"], let value = integer(node, path: "model.parallel", in: 1...256) { parallel = value }
        var memory: ByteCount?
        if let node = section["memory"] {
            let expected = "a byte size of at least 64MiB, such as 20GiB or 512MiB"
            if let text = string(node, path: "model.memory", expected: expected) {
                if let size = ByteCount(parsing: text), size.bytes >= 64 << 20 {
                    memory = size
                } else {
                    error("model.memory: expected \(expected), found \(ScalarValue.quote(text))", at: node.location)
                }
            }
        }
        var weights = ModelWeights.mapped
        if let node = section["weights"], let value: ModelWeights = choice(node, path: "model.weights") { weights = value }
        guard let source else { return nil }
        return ModelSettings(source: source, context: context, threads: threads, parallel: parallel, memory: memory,
                             weights: weights)
    }

    private mutating func decodeServer(_ section: Mapping, urlNode: YAMLNode) -> ModelSource? {
        var url: String?
        if let text = string(urlNode, path: "model.url", expected: "an http:// or https:// URL") {
            checkVariables(text, path: "model.url", at: urlNode.location)
            if text.hasPrefix("http://") || text.hasPrefix("https://") || text.hasPrefix("${") {
                url = text
            } else {
                error("model.url: expected an http:// or https:// URL, found \(ScalarValue.quote(text))", at: urlNode.location)
            }
        }
        var name: String?
        if let node = section["name"] {
            name = string(node, path: "model.name", expected: "the server's model name")
        } else {
            error("model: missing required key \"name\" (the model name the server knows, e.g. qwen3-coder)", at: section.location)
        }
        var apiKeyVariable: String?
        if let node = section["api_key_env"], let text = string(node, path: "model.api_key_env", expected: "an environment variable name") {
            if Self.isVariableName(text) {
                apiKeyVariable = text
            } else {
                error("model.api_key_env: expected the name of an environment variable (letters, digits, _), found \(ScalarValue.quote(text)); never put the key itself in a spec", at: node.location)
            }
        }
        var timeout = DurationSpec(seconds: 600)
        if let node = section["timeout"], let value = duration(node, path: "model.timeout") { timeout = value }
        guard let url, let name else { return nil }
        return .server(url: Located(url, at: urlNode.location), name: name, apiKeyVariable: apiKeyVariable, timeout: timeout)
    }

    // MARK: defaults and per-task generation keys

    mutating func decodeGeneration(_ section: Mapping, base: GenerationSettings, context: Int?) -> GenerationSettings {
        var settings = base
        if let node = section["max_tokens"], let value = integer(node, path: section.path(of: "max_tokens"), in: 1...1_048_576) {
            if let context, value >= context {
                error("\(section.path(of: "max_tokens")): \(value) leaves no room for the prompt in model.context (\(context)); expected less than \(context)", at: node.location)
            }
            settings.maxTokens = value
        }
        if let node = section["temperature"],
           let value = number(node, path: section.path(of: "temperature"), expected: "a number from 0 to 2", isValid: { (0...2).contains($0) }) {
            settings.temperature = value
        }
        if let node = section["top_p"],
           let value = number(node, path: section.path(of: "top_p"), expected: "a number greater than 0 and at most 1", isValid: { $0 > 0 && $0 <= 1 }) {
            settings.topP = value
        }
        if let node = section["top_k"], let value = integer(node, path: section.path(of: "top_k"), in: 0...1_000_000) {
            settings.topK = value
        }
        if let node = section["seed"], let value = integer(node, path: section.path(of: "seed"), in: 0...Int.max) {
            settings.seed = UInt64(value)
        }
        if let node = section["stop"],
           let value = list(node, path: section.path(of: "stop"), expected: "non-empty strings", maxCount: 16, item: { decoder, item, path in
               decoder.string(item, path: path, expected: "a non-empty string")
           }) {
            settings.stop = value
        }
        if let node = section["timeout"], let value = duration(node, path: section.path(of: "timeout")) {
            settings.timeout = value
        }
        return settings
    }

    private mutating func duration(_ node: YAMLNode, path: String) -> DurationSpec? {
        let expected = "a duration from 1s to 24h, such as 90s, 10m or 1h30m"
        guard let text = string(node, path: path, expected: expected) else { return nil }
        guard let value = DurationSpec(parsing: text), (1...86_400).contains(value.seconds) else {
            error("\(path): expected \(expected), found \(ScalarValue.quote(text))", at: node.location)
            return nil
        }
        return value
    }

    // MARK: outputs

    private mutating func decodeOutputs(_ node: YAMLNode, defaults: OutputSettings) -> OutputSettings {
        var outputs = defaults
        guard let section = mapping(node, path: "outputs", expected: "a mapping with dir, formats and fail_on") else { return outputs }
        rejectUnknownKeys(section, allowed: SpecSchema.keyNames(in: .outputs), sectionName: "outputs")
        if let node = section["dir"], let text = string(node, path: "outputs.dir", expected: "a folder path") {
            outputs.directory = text
        }
        if let node = section["formats"],
           let formats: [OutputFormat] = list(node, path: "outputs.formats", expected: "output formats", item: { decoder, item, path in
               decoder.choice(item, path: path)
           }) {
            var seen: Set<OutputFormat> = []
            for (index, format) in formats.enumerated() where !seen.insert(format).inserted {
                if case let .sequence(items) = node.content {
                    error("outputs.formats[\(index)]: \(format.rawValue) is listed twice", at: items[index].location)
                }
            }
            outputs.formats = formats
        }
        if let node = section["fail_on"], let level: FailLevel = choice(node, path: "outputs.fail_on") {
            outputs.failOn = level
        }
        return outputs
    }

    // MARK: checks shared by several keys

    static func isVariableName(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic) else {
            return false
        }
        return text.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
    }

    /// Checks the `${NAME}` references of a key where variables are expanded.
    mutating func checkVariables(_ text: String, path: String, at location: SourceLocation) {
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            let after = rest[start.upperBound...]
            guard let close = after.firstIndex(of: "}") else {
                error("\(path): `${` opens a variable that is never closed with `}`", at: location)
                return
            }
            let name = String(after[..<close])
            if !Self.isVariableName(name) {
                error("\(path): ${\(name)} is not a variable name (letters, digits and _, not starting with a digit)", at: location)
            }
            rest = after[after.index(after: close)...]
        }
    }
}
