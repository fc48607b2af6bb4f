/// Why a request to an OpenAI-compatible server failed.
public enum RemoteError: Error, Sendable, Hashable {
    /// The server answered with an HTTP error status after all retries.
    case httpStatus(Int, url: String, body: String)
}
