/// Why the local engine could not load a model or run a request.
public enum EngineError: Error, Sendable, Hashable {
    /// The model file's architecture is not one Sparrow implements.
    case unsupportedArchitecture(String, path: String)
}
