import Foundation
import TestSupport
import Testing

/// Decodes JSON text with Foundation's `JSONDecoder` (which keeps every scalar; `JSONSerialization` drops a
/// leading U+FEFF from strings, so it cannot judge round trips).
func decodeJSON<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
    try JSONDecoder().decode(type, from: Data(text.utf8))
}

/// Parses JSON text with Foundation's parser, for structural checks on ASCII-only documents.
func parseJSON(_ text: String) -> Any? {
    try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
}

/// An XML element as Python's ElementTree read it (Scripts/fixtures/annotations_xml_dump.py).
struct XMLElementDump: Decodable {
    let tag: String
    let attributes: [String: String]
    let text: String
    let children: [XMLElementDump]

    func children(named name: String) -> [XMLElementDump] { children.filter { $0.tag == name } }
    func attributeValue(_ name: String) -> String? { attributes[name] }
}

enum XMLReference {
    private struct Document: Decodable {
        let ok: Bool
        let root: XMLElementDump?
        let error: String?
    }

    struct NotWellFormed: Error, CustomStringConvertible {
        let description: String
    }

    static let script = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Scripts/fixtures/annotations_xml_dump.py")

    /// Parses each document with Python's expat (the venv's python, made by Scripts/setup); throws when one is not
    /// well-formed.
    static func parse(_ documents: [String]) throws -> [XMLElementDump] {
        let python = SchemaValidator.cacheDirectory.appendingPathComponent("venv/bin/python3")
        guard FileManager.default.isExecutableFile(atPath: python.path) else {
            throw SchemaValidator.Missing(path: python.path)
        }
        let directory = try TemporaryDirectory(prefix: "sparrow-xml")
        defer { directory.remove() }
        var files: [String] = []
        for (index, document) in documents.enumerated() {
            files.append(try directory.write(document, to: "doc-\(index).xml").path)
        }
        let result = try runProcess(python, arguments: [script.path] + files, watchdogSeconds: 300)
        guard result.exitCode == 0 else { throw NotWellFormed(description: "xml dump failed: \(result.standardError)") }
        return try decodeJSON([Document].self, result.standardOutput).enumerated().map { index, document in
            guard document.ok, let root = document.root else {
                throw NotWellFormed(description: "document \(index) is not well-formed XML: \(document.error ?? "?")")
            }
            return root
        }
    }

    static func parse(_ document: String) throws -> XMLElementDump {
        guard let root = try parse([document]).first else { throw NotWellFormed(description: "no document") }
        return root
    }
}

/// What an XML parser gives back for text the writers escaped: XML-forbidden scalars become U+FFFD.
func xmlVisible(_ text: String) -> String {
    var scalars = String.UnicodeScalarView()
    for scalar in text.unicodeScalars {
        switch scalar.value {
        case 0x9, 0xA, 0xD, 0x20...0xD7FF, 0xE000...0xFFFD, 0x10000...0x10FFFF: scalars.append(scalar)
        default: scalars.append("\u{FFFD}")
        }
    }
    return String(scalars)
}

/// The slices of the JSON formats that the round-trip tests read back.
enum Decoded {
    struct SARIFLog: Decodable {
        struct Run: Decodable { let results: [Result] }
        struct Result: Decodable {
            struct Message: Decodable { let text: String }
            struct Location: Decodable {
                struct Physical: Decodable {
                    struct Artifact: Decodable { let uri: String }
                    let artifactLocation: Artifact
                }
                let physicalLocation: Physical
            }
            let message: Message
            let locations: [Location]
        }
        let runs: [Run]
    }

    struct Diagnostic: Decodable {
        struct Location: Decodable { let path: String }
        let message: String
        let location: Location
    }

    struct GitLabIssue: Decodable {
        struct Location: Decodable { let path: String }
        let description: String
        let location: Location
    }
}
