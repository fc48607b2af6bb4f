import Foundation
import TestSupport
import Testing

/// Runs the real `check-jsonschema` from the venv that Scripts/setup makes at `$SPARROW_CACHE/venv`.
enum SchemaValidator {
    /// A tool of the venv is missing: the message names it and the script that installs it.
    struct Missing: Error, CustomStringConvertible {
        let path: String
        var description: String {
            "\(URL(fileURLWithPath: path).lastPathComponent) not found at \(path); run Scripts/setup (it makes the venv "
                + "$SPARROW_CACHE/venv with check-jsonschema and rfc3987)"
        }
    }

    /// `$SPARROW_CACHE`, else `${XDG_CACHE_HOME:-$HOME/.cache}/sparrow`.
    static var cacheDirectory: URL {
        let environment = ProcessInfo.processInfo.environment
        if let cache = environment["SPARROW_CACHE"], !cache.isEmpty { return URL(fileURLWithPath: cache) }
        let base = environment["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? ((environment["HOME"] ?? NSHomeDirectory()) + "/.cache")
        return URL(fileURLWithPath: base).appendingPathComponent("sparrow")
    }

    static func executable() throws -> URL {
        let url = cacheDirectory.appendingPathComponent("venv/bin/check-jsonschema")
        guard FileManager.default.isExecutableFile(atPath: url.path) else { throw Missing(path: url.path) }
        return url
    }

    /// Validates each document (one file each) against `schema` in one run of the validator.
    static func validate(_ documents: [String], schema: URL) throws -> ProcessResult {
        let tool = try executable()
        let directory = try TemporaryDirectory(prefix: "sparrow-schema")
        defer { directory.remove() }
        var files: [String] = []
        for (index, document) in documents.enumerated() {
            files.append(try directory.write(document, to: "doc-\(index).json").path)
        }
        return try runProcess(tool, arguments: ["--schemafile", schema.path] + files, watchdogSeconds: 300)
    }

    /// Records an issue unless every document validates.
    static func expectValid(
        _ documents: [String], schema: URL, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let result = try validate(documents, schema: schema)
        #expect(
            result.exitCode == 0,
            "check-jsonschema rejected a document (\(schema.lastPathComponent)):\n\(result.standardOutput.prefix(4000))\(result.standardError.prefix(2000))",
            sourceLocation: sourceLocation)
    }
}
