/// A path pattern for `paths` and `exclude`, matched against `/`-separated paths relative to the repository root.
///
/// Syntax: `*` matches any characters within one path segment, `?` one character, `[abc]`, `[a-z]` and `[!a]` one
/// character from (or not from) a set, `**` as a whole segment any number of segments (also none), and `\` escapes
/// the next character. A pattern without `/` matches the file name at any depth (`*.swift`), as in `.gitignore`.
public struct Glob: Sendable, Hashable, CustomStringConvertible {
    /// Why a pattern is not a valid glob.
    public struct SyntaxError: Error, Sendable, Hashable {
        public var message: String
    }

    fileprivate enum Token: Sendable, Hashable {
        case literal(Character)
        case anyRun
        case anyOne
        case set(negated: Bool, ranges: [ClosedRange<Character>])
    }

    fileprivate enum Segment: Sendable, Hashable {
        case anyDepth
        case pattern([Token])
    }

    /// The pattern as written.
    public let pattern: String
    private let segments: [Segment]
    private let matchesAnyDepth: Bool

    public var description: String { pattern }

    /// Parses `pattern`, rejecting what cannot match a repository path.
    public init(_ pattern: String) throws(SyntaxError) {
        guard !pattern.isEmpty else { throw SyntaxError(message: "a glob cannot be empty") }
        guard pattern.count <= 1024 else { throw SyntaxError(message: "a glob is at most 1024 characters") }
        guard !pattern.hasPrefix("/") else {
            throw SyntaxError(message: "a glob is relative to the repository root and cannot start with '/'")
        }
        self.pattern = pattern
        var segments: [Segment] = []
        for part in pattern.split(separator: "/", omittingEmptySubsequences: false) {
            if part.isEmpty { throw SyntaxError(message: "empty path segment ('//' or a trailing '/')") }
            if part == ".." || part == "." {
                throw SyntaxError(message: "'\(part)' segments are not allowed; patterns match paths inside the repository")
            }
            if part == "**" {
                if segments.last != .anyDepth { segments.append(.anyDepth) }
                continue
            }
            if part.contains("**") {
                throw SyntaxError(message: "'**' must be a whole path segment (as in 'src/**/test'), found '\(part)'")
            }
            segments.append(.pattern(try Self.tokens(of: part)))
        }
        self.segments = segments
        matchesAnyDepth = !pattern.contains("/")
    }

    /// True when `path` (relative, `/`-separated) matches.
    public func matches(_ path: String) -> Bool {
        let components = path.split(separator: "/").map(String.init)
        if matchesAnyDepth, let name = components.last {
            return Self.match(segments[...], [name][...])
        }
        return Self.match(segments[...], components[...])
    }

    private static func match(_ segments: ArraySlice<Segment>, _ components: ArraySlice<String>) -> Bool {
        guard let first = segments.first else { return components.isEmpty }
        switch first {
        case .anyDepth:
            var rest = components
            while true {
                if match(segments.dropFirst(), rest) { return true }
                if rest.isEmpty { return false }
                rest = rest.dropFirst()
            }
        case let .pattern(tokens):
            guard let component = components.first, matchSegment(tokens[...], Array(component)[...]) else {
                return false
            }
            return match(segments.dropFirst(), components.dropFirst())
        }
    }

    private static func matchSegment(_ tokens: ArraySlice<Token>, _ characters: ArraySlice<Character>) -> Bool {
        guard let token = tokens.first else { return characters.isEmpty }
        switch token {
        case .anyRun:
            var rest = characters
            while true {
                if matchSegment(tokens.dropFirst(), rest) { return true }
                if rest.isEmpty { return false }
                rest = rest.dropFirst()
            }
        case let .literal(expected):
            guard characters.first == expected else { return false }
            return matchSegment(tokens.dropFirst(), characters.dropFirst())
        case .anyOne:
            guard !characters.isEmpty else { return false }
            return matchSegment(tokens.dropFirst(), characters.dropFirst())
        case let .set(negated, ranges):
            guard let character = characters.first, ranges.contains(where: { $0.contains(character) }) != negated else {
                return false
            }
            return matchSegment(tokens.dropFirst(), characters.dropFirst())
        }
    }

    private static func tokens(of segment: Substring) throws(SyntaxError) -> [Token] {
        var tokens: [Token] = []
        var characters = Array(segment)[...]
        while let character = characters.popFirst() {
            switch character {
            case "\\":
                guard let escaped = characters.popFirst() else {
                    throw SyntaxError(message: "'\\' at the end of the pattern escapes nothing")
                }
                tokens.append(.literal(escaped))
            case "*":
                if tokens.last != .anyRun { tokens.append(.anyRun) }
            case "?":
                tokens.append(.anyOne)
            case "[":
                tokens.append(try set(from: &characters))
            default:
                tokens.append(.literal(character))
            }
        }
        return tokens
    }

    private static func set(from characters: inout ArraySlice<Character>) throws(SyntaxError) -> Token {
        var negated = false
        if characters.first == "!" || characters.first == "^" {
            negated = true
            characters.removeFirst()
        }
        var ranges: [ClosedRange<Character>] = []
        while let character = characters.popFirst() {
            if character == "]" {
                guard !ranges.isEmpty else { throw SyntaxError(message: "empty character set '[]'") }
                return .set(negated: negated, ranges: ranges)
            }
            let low = character == "\\" ? (characters.popFirst() ?? "\\") : character
            if characters.first == "-", characters.dropFirst().first.map({ $0 != "]" }) ?? false {
                characters.removeFirst()
                guard let high = characters.popFirst() else { break }
                guard low <= high else {
                    throw SyntaxError(message: "character range '\(low)-\(high)' runs backwards")
                }
                ranges.append(low...high)
            } else {
                ranges.append(low...low)
            }
        }
        throw SyntaxError(message: "'[' opens a character set that is never closed with ']'")
    }
}
