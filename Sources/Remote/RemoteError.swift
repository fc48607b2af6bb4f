/// Why a remote client could not be set up. Failures of single requests are `GenerationError` values (the
/// `TextGenerating` contract); their reasons name the request, the URL and what was expected.
public enum RemoteError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The base URL is not an absolute `http` or `https` URL.
    case invalidBaseURL(String)
    /// The configuration names an API-key variable that is not set (or empty) in the environment.
    case missingAPIKey(variable: String)
    /// A configuration value is out of range; `field` is the spec key (for example `model.parallel`).
    case invalidSetting(field: String, reason: String)

    public var description: String {
        switch self {
        case let .invalidBaseURL(url):
            "model.url: expected an absolute http:// or https:// URL, got '\(url)'"
        case let .missingAPIKey(variable):
            "model.api_key_env: the environment variable \(variable) is not set or is empty"
        case let .invalidSetting(field, reason):
            "\(field): \(reason)"
        }
    }
}
