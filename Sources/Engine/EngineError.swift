/// Why the local engine could not load a model or run a request.
public enum EngineError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The model file's architecture is not one Sparrow implements.
    case unsupportedArchitecture(String, path: String)
    /// The file's tokenizer metadata is missing, malformed or of an unsupported kind.
    case tokenizer(path: String, reason: String)
    /// A tensor is missing, or its type or shape is not what the architecture needs.
    case tensor(name: String, reason: String)
    /// The model file could not be read or is not a usable model.
    case model(path: String, reason: String)
    /// The model file's architecture is not one the engine implements; `supported` lists those it does.
    case architectureNotImplemented(String, supported: [String], path: String)
    /// A sequence's state is full, or a forward call is malformed.
    case invalidInput(String)

    public var description: String {
        switch self {
        case let .unsupportedArchitecture(name, path): "\(path): architecture '\(name)' is not supported"
        case let .tokenizer(path, reason): "\(path): tokenizer: \(reason)"
        case let .tensor(name, reason): "tensor \(name): \(reason)"
        case let .model(path, reason): "\(path): \(reason)"
        case let .invalidInput(reason): reason
        case let .architectureNotImplemented(name, supported, path):
            "\(path): architecture '\(name)' is not supported (expected one of: \(supported.joined(separator: ", ")))"
        }
    }
}
