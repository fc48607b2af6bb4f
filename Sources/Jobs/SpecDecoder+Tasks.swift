/// `tasks:`: the common keys, then the keys of each kind.
extension SpecDecoder {
    mutating func decodeTasks(_ node: YAMLNode, defaults: GenerationSettings, limits: SandboxLimitSettings, context: Int?) -> [TaskSpec] {
        guard case let .sequence(items) = node.content else {
            error("tasks: expected a list of tasks (each a mapping with id and kind), found \(describe(node))", at: node.location)
            return []
        }
        if items.isEmpty {
            error("tasks: expected at least one task, found an empty list", at: node.location)
        }
        var tasks: [TaskSpec] = []
        var firstUse: [String: SourceLocation] = [:]
        for (index, item) in items.enumerated() {
            // Ids are compared even when a task has other errors, so a duplicate is reported in the same run.
            if case let .mapping(pairs) = item.content,
               let idNode = pairs.first(where: { $0.key.scalar?.text == "id" })?.value,
               let id = idNode.scalar.flatMap({ ScalarValue($0).text }) {
                if let first = firstUse[id] {
                    error("tasks[\(index)].id: duplicate task id \(ScalarValue.quote(id)) (first used at \(first)); ids must be unique", at: idNode.location)
                } else {
                    firstUse[id] = idNode.location
                }
            }
            if let task = decodeTask(item, path: "tasks[\(index)]", defaults: defaults, limits: limits, context: context) {
                tasks.append(task)
            }
        }
        return tasks
    }

    private static let kindKeys: [TaskKindName: [String]] = [
        .review: SpecSchema.keys.filter { $0.section == .review }.map(\.name),
        .patch: SpecSchema.keys.filter { $0.section == .patch }.map(\.name),
        .tests: SpecSchema.keys.filter { $0.section == .tests }.map(\.name),
    ]

    private mutating func decodeTask(_ node: YAMLNode, path: String, defaults: GenerationSettings, limits: SandboxLimitSettings, context: Int?) -> TaskSpec? {
        guard let section = mapping(node, path: path, expected: "a task (a mapping with id and kind)") else { return nil }

        var id: String?
        var idLocation = section.location
        if let idNode = section["id"], let text = string(idNode, path: section.path(of: "id"), expected: "a task id") {
            idLocation = idNode.location
            if Self.isTaskID(text) {
                id = text
            } else {
                error("\(section.path(of: "id")): expected letters, digits, '.', '_' or '-' (at most 128, starting with a letter or digit), found \(ScalarValue.quote(text))", at: idNode.location)
            }
        } else if section["id"] == nil {
            error("\(path): missing required key \"id\" (a unique name for the task)", at: section.location)
        }

        var kind: TaskKindName?
        if let kindNode = section["kind"] {
            kind = choice(kindNode, path: section.path(of: "kind"))
        } else {
            error("\(path): missing required key \"kind\" (one of review, patch, tests)", at: section.location)
        }

        guard let kind else {
            // Without a kind only the common keys can be judged; kind-specific keys would be guesses.
            let known = SpecSchema.keyNames(in: .review) + SpecSchema.keyNames(in: .patch) + SpecSchema.keyNames(in: .tests)
            rejectUnknownKeys(section, allowed: known, sectionName: "a task")
            return nil
        }
        let sectionForKind: SpecSchema.Section = switch kind {
        case .review: .review
        case .patch: .patch
        case .tests: .tests
        }
        var others = Self.kindKeys
        others[kind] = nil
        rejectUnknownKeys(section, allowed: SpecSchema.keyNames(in: sectionForKind), sectionName: "\(kind.rawValue) tasks", otherKinds: others)

        let generation = decodeGeneration(section, base: defaults, context: context)
        let taskKind: TaskKind? = switch kind {
        case .review: decodeReview(section).map(TaskKind.review)
        case .patch: decodePatch(section, limits: limits).map(TaskKind.patch)
        case .tests: decodeTests(section, limits: limits).map(TaskKind.tests)
        }
        guard let id, let taskKind else { return nil }
        return TaskSpec(id: id, location: idLocation, kind: taskKind, generation: generation)
    }

    private mutating func decodeReview(_ section: Mapping) -> ReviewTask? {
        var task = ReviewTask(
            base: Located(.auto, at: section.location), head: Located("HEAD", at: section.location),
            paths: [], exclude: [], filter: .added, contextLines: 3
        )
        if let node = section["base"], let base = revisionSpec(node, path: section.path(of: "base")) { task.base = base }
        if let node = section["head"], let head = revision(node, path: section.path(of: "head")) { task.head = head }
        task.paths = globs(section["paths"], path: section.path(of: "paths")) ?? []
        if task.paths.isEmpty, let everything = try? Glob("**") { task.paths = [everything] }
        task.exclude = globs(section["exclude"], path: section.path(of: "exclude")) ?? []
        if let node = section["filter"], let mode: ChangedLinesFilterMode = choice(node, path: section.path(of: "filter")) {
            task.filter = mode
        }
        if let node = section["context_lines"], let value = integer(node, path: section.path(of: "context_lines"), in: 0...1000) {
            task.contextLines = value
        }
        return task
    }

    private mutating func decodePatch(_ section: Mapping, limits: SandboxLimitSettings) -> PatchTask? {
        var task = PatchTask(
            at: Located("HEAD", at: section.location), instruction: "", files: [], setup: nil, verify: nil, attempts: 3, sandboxLimits: limits
        )
        if let node = section["at"], let at = revision(node, path: section.path(of: "at")) { task.at = at }
        var instruction: String?
        if let node = section["instruction"] {
            instruction = string(node, path: section.path(of: "instruction"), expected: "the change to make, as text")
        } else {
            error("\(section.path): missing required key \"instruction\" (what the patch should change)", at: section.location)
        }
        if let node = section["files"],
           let files = list(node, path: section.path(of: "files"), expected: "relative file paths", item: { decoder, item, path in
               decoder.relativePath(item, path: path)
           }) {
            task.files = files
        }
        task.setup = command(section, "setup")
        task.verify = command(section, "verify")
        if let node = section["attempts"], let value = integer(node, path: section.path(of: "attempts"), in: 1...10) {
            task.attempts = value
        }
        if let node = section["sandbox_limits"] {
            task.sandboxLimits = decodeSandboxLimits(node, path: section.path(of: "sandbox_limits"), base: limits)
        }
        guard let instruction else { return nil }
        task.instruction = instruction
        return task
    }

    private mutating func decodeTests(_ section: Mapping, limits: SandboxLimitSettings) -> TestsTask? {
        var task = TestsTask(
            base: Located(.revision("HEAD~1"), at: section.location), head: Located("HEAD", at: section.location),
            testDirectory: nil, setup: nil, run: "", repeats: 3, mustFailOnBase: false, sandboxLimits: limits
        )
        if let node = section["base"], let base = revisionSpec(node, path: section.path(of: "base")) { task.base = base }
        if let node = section["head"], let head = revision(node, path: section.path(of: "head")) { task.head = head }
        if let node = section["test_dir"] { task.testDirectory = relativePath(node, path: section.path(of: "test_dir")) }
        task.setup = command(section, "setup")
        let run = command(section, "run")
        if section["run"] == nil {
            error("\(section.path): missing required key \"run\" (the command that runs the tests)", at: section.location)
        }
        if let node = section["repeats"], let value = integer(node, path: section.path(of: "repeats"), in: 1...100) {
            task.repeats = value
        }
        if let node = section["must_fail_on_base"], let value = boolean(node, path: section.path(of: "must_fail_on_base")) {
            task.mustFailOnBase = value
        }
        if let node = section["sandbox_limits"] {
            task.sandboxLimits = decodeSandboxLimits(node, path: section.path(of: "sandbox_limits"), base: limits)
        }
        guard let run else { return nil }
        task.run = run
        return task
    }

    // MARK: value checks

    static func isTaskID(_ text: String) -> Bool {
        guard text.count <= 128, let first = text.unicodeScalars.first, first.isASCII, first.properties.isAlphabetic || ("0"..."9").contains(first) else {
            return false
        }
        return text.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0)) }
    }

    private mutating func command(_ section: Mapping, _ key: String) -> String? {
        guard let node = section[key] else { return nil }
        return string(node, path: section.path(of: key), expected: "a shell command line")
    }

    /// A single revision as git understands it; ranges, options and whitespace are rejected before git sees them.
    private mutating func revision(_ node: YAMLNode, path: String) -> Located<String>? {
        guard let text = string(node, path: path, expected: "a revision (a branch, tag, SHA or HEAD~1)") else { return nil }
        if text.hasPrefix("-") {
            error("\(path): a revision cannot start with '-', found \(ScalarValue.quote(text))", at: node.location)
        } else if text.contains("..") {
            error("\(path): expected a single revision, found the range \(ScalarValue.quote(text)); use base and head", at: node.location)
        } else if text.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F }) {
            error("\(path): a revision cannot contain spaces or control characters, found \(ScalarValue.quote(text))", at: node.location)
        } else if text.contains(":") {
            error("\(path): expected a revision, found \(ScalarValue.quote(text)) (':' names a file in a commit)", at: node.location)
        } else {
            return Located(text, at: node.location)
        }
        return nil
    }

    private mutating func revisionSpec(_ node: YAMLNode, path: String) -> Located<RevisionSpec>? {
        if node.scalar?.text == "auto", node.scalar?.style == .plain { return Located(.auto, at: node.location) }
        return revision(node, path: path).map { Located(.revision($0.value), at: $0.location) }
    }

    /// A path inside the repository: relative, no `..`, nothing under `.git`.
    private mutating func relativePath(_ node: YAMLNode, path: String) -> String? {
        guard let text = string(node, path: path, expected: "a path relative to the repository") else { return nil }
        let segments = text.split(separator: "/", omittingEmptySubsequences: true)
        if text.hasPrefix("/") {
            error("\(path): expected a path relative to the repository, found the absolute path \(ScalarValue.quote(text))", at: node.location)
        } else if segments.contains("..") {
            error("\(path): '..' would leave the repository, found \(ScalarValue.quote(text))", at: node.location)
        } else if segments.first == ".git" {
            error("\(path): paths under .git are not part of the repository's content", at: node.location)
        } else if text.unicodeScalars.contains(where: { $0.value < 0x20 }) {
            error("\(path): a path cannot contain control characters, found \(ScalarValue.quote(text))", at: node.location)
        } else {
            return text
        }
        return nil
    }

    private mutating func globs(_ node: YAMLNode?, path: String) -> [Glob]? {
        guard let node else { return nil }
        return list(node, path: path, expected: "globs", item: { decoder, item, path -> Glob? in
            guard let text = decoder.string(item, path: path, expected: "a glob such as \"Sources/**\"") else { return nil }
            do throws(Glob.SyntaxError) {
                return try Glob(text)
            } catch {
                decoder.error("\(path): invalid glob \(ScalarValue.quote(text)): \(error.message)", at: item.location)
                return nil
            }
        })
    }
}
