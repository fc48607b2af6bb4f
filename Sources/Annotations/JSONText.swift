internal import Foundation

/// The JSON settings every writer shares: sorted keys (so key order never depends on a dictionary), no `\/`.
enum JSONText {
    /// Encodes `value` as UTF-8 JSON text; `pretty` adds newlines and two-space indentation.
    static func encode(_ value: some Encodable, pretty: Bool, format: String) throws(AnnotationsError) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted] : [.sortedKeys, .withoutEscapingSlashes]
        do {
            return String(decoding: try encoder.encode(value), as: UTF8.self)
        } catch {
            throw .encodingFailed(format: format, reason: String(describing: error))
        }
    }
}
