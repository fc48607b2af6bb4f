/// A secret read from the environment. Its description never shows the value, so it cannot leak through string
/// interpolation, `print` or `dump`-style logging; only `authorizationHeader` reveals it, for the request itself.
struct APIKey: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    private let value: String

    init(_ value: String) { self.value = value }

    var authorizationHeader: String { "Bearer \(value)" }

    var description: String { "APIKey(redacted)" }
    var debugDescription: String { description }
    /// `dump` and other reflection see no children, so not the value either.
    var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }

    /// `text` with every occurrence of the key replaced, for server messages that echo request headers.
    func redact(_ text: String) -> String {
        value.isEmpty ? text : text.replacingOccurrences(of: value, with: "[redacted]")
    }
}

extension String {
    /// Foundation-free replacement, so this file does not need Foundation's String extensions.
    fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var result = ""
        var rest = self[...]
        while let range = rest.firstRange(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        result += rest
        return result
    }
}
