import Foundation
import Jobs

/// Turns a validated spec into what a run needs: `${VAR}` expanded, relative paths resolved, overrides applied.
struct SpecResolution {
    let loaded: LoadedSpec
    let options: RunOptions

    var spec: JobSpec { loaded.spec }

    /// Expands `${NAME}` from the environment; an unset variable is an error at the value's position.
    func expand(_ located: Located<String>, key: String) throws(RunnerError) -> String {
        var result = ""
        var rest = Substring(located.value)
        while let start = rest.range(of: "${") {
            result += rest[..<start.lowerBound]
            let after = rest[start.upperBound...]
            guard let close = after.firstIndex(of: "}") else { break }
            let name = String(after[..<close])
            guard let value = options.environment[name] else {
                throw .badInput("\(spec.file):\(located.location): error: \(key): ${\(name)} is not set in the environment")
            }
            result += value
            rest = after[after.index(after: close)...]
        }
        return result + rest
    }

    /// `path` made absolute against `base` when relative.
    static func absolute(_ path: String, against base: String) -> String {
        if path.hasPrefix("/") { return URL(fileURLWithPath: path).standardizedFileURL.path }
        return URL(fileURLWithPath: base).appendingPathComponent(path).standardizedFileURL.path
    }

    var specDirectory: String { Self.absolute(spec.baseDirectory.isEmpty ? "." : spec.baseDirectory, against: options.workingDirectory) }

    func repositoryPath() throws(RunnerError) -> String {
        Self.absolute(try expand(spec.repository, key: "repository"), against: specDirectory)
    }

    func outputDirectory() -> String {
        if let override = options.outputDirectory { return Self.absolute(override, against: options.workingDirectory) }
        return Self.absolute(spec.outputs.directory, against: specDirectory)
    }

    func model() throws(RunnerError) -> ResolvedModel {
        let settings = spec.model
        if let override = options.model {
            if override.hasPrefix("http://") || override.hasPrefix("https://") {
                var name = "default"
                var keyVariable: String?
                var timeout = 600
                if case let .server(_, specName, specKey, specTimeout) = settings.source {
                    name = specName
                    keyVariable = specKey
                    timeout = specTimeout.seconds
                }
                return ResolvedModel(source: .server(url: override, name: name, apiKeyVariable: keyVariable, timeoutSeconds: timeout), settings: settings)
            }
            return ResolvedModel(source: .file(Self.absolute(override, against: options.workingDirectory)), settings: settings)
        }
        switch settings.source {
        case let .file(path):
            return ResolvedModel(source: .file(Self.absolute(try expand(path, key: "model.path"), against: specDirectory)), settings: settings)
        case let .server(url, name, key, timeout):
            return ResolvedModel(source: .server(url: try expand(url, key: "model.url"), name: name, apiKeyVariable: key, timeoutSeconds: timeout.seconds), settings: settings)
        }
    }
}
