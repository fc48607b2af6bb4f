/// Why a command could not be started or isolated. Internal: it ends up as the `detail` of a journal entry (the
/// task becomes `error`), so the module keeps `RunnerError` as its one public error type.
struct SandboxFailure: Error, Sendable, CustomStringConvertible {
    var message: String

    init(_ message: String) { self.message = message }

    var description: String { message }
}
