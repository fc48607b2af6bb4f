/// Why the local engine could not load a model or run a request.
public enum EngineError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The model file's architecture is not one Sparrow implements.
    case unsupportedArchitecture(String, path: String)
    /// The file's tokenizer metadata is missing, malformed or of an unsupported kind.
    case tokenizer(path: String, reason: String)

    public var description: String {
        switch self {
        case let .unsupportedArchitecture(name, path): "\(path): architecture '\(name)' is not supported"
        case let .tokenizer(path, reason): "\(path): tokenizer: \(reason)"
        }
    }
}
