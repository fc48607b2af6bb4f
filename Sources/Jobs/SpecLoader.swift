import Foundation

/// A spec that loaded, with the warnings found on the way (such as `sandbox: none`).
public struct LoadedSpec: Sendable, Hashable {
    public var spec: JobSpec
    public var warnings: [SpecDiagnostic]
}

/// Reads and validates job spec files. Checks the spec alone: no repository, model or network is touched.
public enum SpecLoader {
    /// Loads the spec at `path` (reported in messages as written).
    public static func load(path: String, limits: YAMLLimits = .jobSpec) throws(SpecError) -> LoadedSpec {
        let start = SourceLocation(line: 1, column: 1)
        func fail(_ message: String) -> SpecError {
            SpecError([SpecDiagnostic(file: path, location: start, message: message)])
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw fail("cannot read the spec: no such file")
        }
        guard !isDirectory.boolValue else { throw fail("cannot read the spec: it is a folder, expected a YAML file") }
        let bytes: [UInt8]
        do {
            bytes = try readBounded(path: path, limit: limits.maxBytes)
        } catch let error as SpecError {
            throw error
        } catch {
            throw fail("cannot read the spec: \(error.localizedDescription)")
        }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return try decode(bytes, file: path, baseDirectory: directory, limits: limits)
    }

    /// Validates spec text already in memory; `file` names it in messages.
    public static func decode(
        _ bytes: [UInt8], file: String, baseDirectory: String, limits: YAMLLimits = .jobSpec
    ) throws(SpecError) -> LoadedSpec {
        let root: YAMLNode?
        do {
            root = try YAMLReader.parse(bytes, limits: limits)
        } catch {
            throw SpecError([SpecDiagnostic(file: file, location: error.location, message: error.message)])
        }
        guard let root else {
            throw SpecError([SpecDiagnostic(
                file: file, location: SourceLocation(line: 1, column: 1),
                message: "the spec is empty; expected a mapping that starts with `version: 1`"
            )])
        }
        var decoder = SpecDecoder(file: file)
        guard let spec = decoder.decodeSpec(root, baseDirectory: baseDirectory) else {
            throw SpecError(decoder.diagnostics)
        }
        return LoadedSpec(spec: spec, warnings: decoder.warnings.sorted())
    }

    /// Reads at most `limit` bytes, failing (without reading the rest) when the file is larger.
    private static func readBounded(path: String, limit: Int) throws -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw SpecError([SpecDiagnostic(file: path, location: SourceLocation(line: 1, column: 1), message: "cannot read the spec: permission denied or not a regular file")])
        }
        defer { try? handle.close() }
        let data = try handle.read(upToCount: limit + 1) ?? Data()
        guard data.count <= limit else {
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? data.count
            throw SpecError([SpecDiagnostic(
                file: path, location: SourceLocation(line: 1, column: 1),
                message: "the spec is \(ByteCountText.describe(size)); the limit is \(ByteCountText.describe(limit)) (is this the right file?)"
            )])
        }
        return [UInt8](data)
    }
}
