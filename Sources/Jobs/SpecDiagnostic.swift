/// One problem in a job spec, at a file position.
public struct SpecDiagnostic: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The spec file as the user named it.
    public var file: String
    public var location: SourceLocation
    /// What is wrong and what was expected, e.g. `model.context: expected an integer from 256 to 1048576, found "big"`.
    public var message: String

    public init(file: String, location: SourceLocation, message: String) {
        self.file = file
        self.location = location
        self.message = message
    }

    /// `FILE:LINE:COLUMN: error: MESSAGE`, the form editors and CI log viewers link.
    public var description: String { "\(file):\(location.line):\(location.column): error: \(message)" }

    public static func < (lhs: SpecDiagnostic, rhs: SpecDiagnostic) -> Bool {
        (lhs.file, lhs.location, lhs.message) < (rhs.file, rhs.location, rhs.message)
    }
}

/// A spec that could not be loaded: every problem found in it, in file order.
public struct SpecError: Error, Sendable, Hashable, CustomStringConvertible {
    public var diagnostics: [SpecDiagnostic]

    public init(_ diagnostics: [SpecDiagnostic]) {
        self.diagnostics = diagnostics.sorted()
    }

    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}
