/// Turns a YAML tree into a `JobSpec`, collecting every problem instead of stopping at the first.
///
/// Each reader returns nil for a missing or invalid value and records why; section decoders then fall back to
/// defaults so later keys are still checked. The spec is returned only when nothing was recorded.
struct SpecDecoder {
    /// A mapping's entries by key, with merge keys (`<<: *defaults`) applied.
    struct Mapping {
        struct Entry {
            var key: String
            var keyLocation: SourceLocation
            var value: YAMLNode
        }

        /// Where the mapping is, as written in messages (`model`, `tasks[1]`).
        var path: String
        var location: SourceLocation
        var entries: [Entry]

        subscript(key: String) -> YAMLNode? { entries.first { $0.key == key }?.value }

        /// `model.context`, `tasks[1].base`.
        func path(of key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
    }

    let file: String
    private(set) var diagnostics: [SpecDiagnostic] = []
    private(set) var warnings: [SpecDiagnostic] = []

    init(file: String) {
        self.file = file
    }

    mutating func error(_ message: String, at location: SourceLocation) {
        diagnostics.append(SpecDiagnostic(file: file, location: location, message: message))
    }

    mutating func warning(_ message: String, at location: SourceLocation) {
        warnings.append(SpecDiagnostic(file: file, location: location, message: message))
    }

    // MARK: Mappings

    /// Reads `node` as a mapping with plain-text keys; records duplicates and non-text keys.
    mutating func mapping(_ node: YAMLNode, path: String, expected: String) -> Mapping? {
        guard case let .mapping(pairs) = node.content else {
            error("\(path.isEmpty ? "the spec" : path): expected \(expected), found \(describe(node))", at: node.location)
            return nil
        }
        var entries: [Mapping.Entry] = []
        var merged: [Mapping.Entry] = []
        for pair in pairs {
            guard let keyScalar = pair.key.scalar, let key = ScalarValue(keyScalar).text else {
                error("\(path.isEmpty ? "the spec" : path): keys must be plain names, found \(describe(pair.key))", at: pair.key.location)
                continue
            }
            if key == "<<", keyScalar.style == .plain {
                merged += mergeEntries(pair.value, path: path)
                continue
            }
            if let first = entries.first(where: { $0.key == key }) {
                error(
                    "duplicate key \(ScalarValue.quote(key)) in \(path.isEmpty ? "the spec" : path) (first at \(first.keyLocation))",
                    at: pair.key.location
                )
                continue
            }
            entries.append(Mapping.Entry(key: key, keyLocation: pair.key.location, value: pair.value))
        }
        for entry in merged where !entries.contains(where: { $0.key == entry.key }) {
            entries.append(entry)
        }
        return Mapping(path: path, location: node.location, entries: entries)
    }

    /// The entries a merge key brings in: from one mapping, or a list of them (earlier ones win).
    private mutating func mergeEntries(_ node: YAMLNode, path: String) -> [Mapping.Entry] {
        let sources: [YAMLNode]
        switch node.content {
        case .mapping: sources = [node]
        case let .sequence(items): sources = items
        case .scalar:
            error("\(path): '<<' merges a mapping (such as *defaults), found \(describe(node))", at: node.location)
            return []
        }
        var entries: [Mapping.Entry] = []
        for source in sources {
            guard let mapping = mapping(source, path: path, expected: "a mapping to merge with '<<'") else { continue }
            for entry in mapping.entries where !entries.contains(where: { $0.key == entry.key }) {
                entries.append(entry)
            }
        }
        return entries
    }

    /// Records every key of `mapping` that `section` does not have, with a suggestion.
    mutating func rejectUnknownKeys(_ mapping: Mapping, allowed: [String], sectionName: String, otherKinds: [TaskKindName: [String]] = [:]) {
        for entry in mapping.entries where !allowed.contains(entry.key) {
            // Every kind that has the key, in a fixed order (a dictionary's order changes from run to run).
            let owners = TaskKindName.allCases.filter { otherKinds[$0]?.contains(entry.key) == true }.map(\.rawValue)
            if !owners.isEmpty {
                error(
                    "\(ScalarValue.quote(entry.key)) is not a key of \(sectionName); it belongs to \(owners.joined(separator: " and ")) tasks",
                    at: entry.keyLocation
                )
            } else if let suggestion = Suggestions.closest(to: entry.key, in: allowed) {
                error(
                    "unknown key \(ScalarValue.quote(entry.key)) in \(sectionName); did you mean \(ScalarValue.quote(suggestion))?",
                    at: entry.keyLocation
                )
            } else {
                error(
                    "unknown key \(ScalarValue.quote(entry.key)) in \(sectionName); expected one of: \(allowed.joined(separator: ", "))",
                    at: entry.keyLocation
                )
            }
        }
    }

    // MARK: Scalars

    /// How a node reads in a message.
    func describe(_ node: YAMLNode) -> String {
        switch node.content {
        case let .scalar(scalar): ScalarValue(scalar).phrase
        case let .sequence(items): items.isEmpty ? "an empty list" : "a list"
        case let .mapping(pairs): pairs.isEmpty ? "an empty mapping" : "a mapping"
        }
    }

    /// The scalar value of `node`, or nil (recorded) when it is a list or mapping.
    private mutating func scalar(_ node: YAMLNode, path: String, expected: String) -> ScalarValue? {
        guard let scalar = node.scalar else {
            error("\(path): expected \(expected), found \(describe(node))", at: node.location)
            return nil
        }
        if let tag = scalar.tag, !tag.hasPrefix("tag:yaml.org,2002:"), tag != "!" {
            error("\(path): unsupported YAML tag \(tag); write the value without a tag", at: node.location)
            return nil
        }
        return ScalarValue(scalar)
    }

    mutating func integer(_ node: YAMLNode, path: String, in range: ClosedRange<Int>) -> Int? {
        let expected = if range.lowerBound == range.upperBound {
            "the integer \(range.lowerBound)"
        } else if range.upperBound == .max {
            "an integer of at least \(range.lowerBound)"
        } else {
            "an integer from \(range.lowerBound) to \(range.upperBound)"
        }
        guard let value = scalar(node, path: path, expected: expected) else { return nil }
        guard case let .integer(integer) = value, range.contains(integer) else {
            error("\(path): expected \(expected), found \(value.phrase)", at: node.location)
            return nil
        }
        return integer
    }

    mutating func number(_ node: YAMLNode, path: String, expected: String, isValid: (Double) -> Bool) -> Double? {
        guard let value = scalar(node, path: path, expected: expected) else { return nil }
        let number: Double? = switch value {
        case let .integer(integer): Double(integer)
        case let .number(number): number
        default: nil
        }
        guard let number, number.isFinite, isValid(number) else {
            error("\(path): expected \(expected), found \(value.phrase)", at: node.location)
            return nil
        }
        return number
    }

    mutating func boolean(_ node: YAMLNode, path: String) -> Bool? {
        guard let value = scalar(node, path: path, expected: "true or false") else { return nil }
        guard case let .bool(flag) = value else {
            var message = "\(path): expected true or false, found \(value.phrase)"
            if case let .string(text) = value, ["yes", "no", "on", "off", "y", "n"].contains(text.lowercased()) {
                message += " (YAML 1.2 reads yes/no/on/off as text)"
            }
            error(message, at: node.location)
            return nil
        }
        return flag
    }

    /// Text; plain numbers and booleans count as their text (a revision may be all digits). Null and empty text are
    /// errors.
    mutating func string(_ node: YAMLNode, path: String, expected: String = "a string") -> String? {
        guard let value = scalar(node, path: path, expected: expected) else { return nil }
        guard let text = value.text, !text.isEmpty else {
            error("\(path): expected \(expected), found \(value.phrase)", at: node.location)
            return nil
        }
        return text
    }

    /// One of `Choice`'s raw values, with a suggestion for a near miss.
    mutating func choice<Choice: RawRepresentable & CaseIterable>(_ node: YAMLNode, path: String) -> Choice?
        where Choice.RawValue == String {
        let names = Choice.allCases.map(\.rawValue)
        let expected = "one of \(names.joined(separator: ", "))"
        guard let text = string(node, path: path, expected: expected) else { return nil }
        if let choice = Choice(rawValue: text) { return choice }
        var message = "\(path): expected \(expected), found \(ScalarValue.quote(text))"
        if let suggestion = Suggestions.closest(to: text, in: names) { message += "; did you mean \(ScalarValue.quote(suggestion))?" }
        error(message, at: node.location)
        return nil
    }

    /// A list whose items `item` reads; nil items are dropped (already recorded).
    mutating func list<Item>(
        _ node: YAMLNode, path: String, expected: String, maxCount: Int = 10_000,
        item: (inout SpecDecoder, YAMLNode, String) -> Item?
    ) -> [Item]? {
        guard case let .sequence(nodes) = node.content else {
            error("\(path): expected a list of \(expected), found \(describe(node))", at: node.location)
            return nil
        }
        guard nodes.count <= maxCount else {
            error("\(path): expected at most \(maxCount) \(expected), found \(nodes.count)", at: node.location)
            return nil
        }
        var items: [Item] = []
        for (index, child) in nodes.enumerated() {
            if let value = item(&self, child, "\(path)[\(index)]") { items.append(value) }
        }
        return items.count == nodes.count ? items : nil
    }
}
