import Foundation

/// Finds the first stop string in generated text as it grows, and holds back text that may be the start of one so
/// a stop string is never partly emitted.
struct StopMatcher: Sendable {
    let stops: [String]

    /// The text before the earliest stop string in `text`, or nil when none occurs.
    func cut(_ text: String) -> String? {
        var earliest: String.Index?
        for stop in stops where !stop.isEmpty {
            if let range = text.range(of: stop), earliest.map({ range.lowerBound < $0 }) ?? true {
                earliest = range.lowerBound
            }
        }
        return earliest.map { String(text[..<$0]) }
    }
}
