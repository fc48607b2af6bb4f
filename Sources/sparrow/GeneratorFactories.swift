import Foundation
import Generation
import Jobs
import Remote
import Runner

/// Builds the generator a spec asks for: the local engine for `model.path`, the remote client for `model.url`.
enum GeneratorFactories {
    struct Unavailable: Error, CustomStringConvertible {
        var description: String
    }

    @Sendable static func make(_ model: ResolvedModel) async throws -> any TextGenerating {
        switch model.source {
        case .file:
            throw Unavailable(description: "the local inference engine has not landed yet (issue 5); use model.url with an OpenAI-compatible server, or --dry-run")
        case let .server(url, name, apiKeyVariable, timeoutSeconds):
            let configuration = try RemoteConfiguration(
                url: url, name: name, apiKeyEnv: apiKeyVariable, timeout: Double(timeoutSeconds),
                context: model.settings.context ?? 32_768, parallel: model.settings.parallel
            )
            return try RemoteClient(configuration: configuration) { notice in
                StandardError.write("sparrow: retrying: \(notice)")
            }
        }
    }
}
