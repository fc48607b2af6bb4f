internal import CLibGit2

/// libgit2's process-wide state and the conversion of its return codes into `GitError`.
///
/// libgit2 is initialised once, the first time any `Git` API touches it (a Swift global is initialised exactly
/// once, thread-safely), and never shut down: its global state lives as long as the process. Error messages are
/// thread-local in libgit2, so `check` reads `git_error_last()` right after the failing call, on the same thread.
enum LibGit2 {
    /// The result of the one `git_libgit2_init()` call (the init count, or a negative error code).
    private static let initialisation: Int32 = git_libgit2_init()

    /// Initialises libgit2 if no call did yet; throws when the library cannot start.
    static func ensureInitialised() throws {
        if initialisation < 0 {
            throw GitError(operation: "initialise libgit2", message: lastMessage(), code: initialisation)
        }
    }

    /// libgit2's message for the last failure on this thread, or a generic sentence when it left none.
    static func lastMessage() -> String {
        guard let error = git_error_last(), let message = error.pointee.message else {
            return "libgit2 reported no message"
        }
        return String(cString: message)
    }

    /// The class (`GIT_ERROR_ZLIB`, `GIT_ERROR_ODB`, ...) of the last failure on this thread, or 0.
    static func lastClass() -> Int32 { git_error_last()?.pointee.klass ?? 0 }

    /// Throws a `GitError` for `operation` when `code` is negative.
    static func check(_ code: Int32, _ operation: @autoclosure () -> String) throws {
        guard code < 0 else { return }
        throw error(code, operation())
    }

    /// Builds the `GitError` for a negative libgit2 return code, classifying it by code and error class.
    static func error(_ code: Int32, _ operation: String) -> GitError {
        let message = lastMessage()
        let errorClass = lastClass()
        let kind: GitError.Kind
        switch code {
        case GIT_ENOTFOUND.rawValue: kind = .notFound
        case GIT_EAMBIGUOUS.rawValue: kind = .ambiguous
        case GIT_EINVALIDSPEC.rawValue: kind = .invalidSpec
        case GIT_EEXISTS.rawValue: kind = .alreadyExists
        case GIT_EAPPLYFAIL.rawValue: kind = .patchFailed
        case GIT_EPEEL.rawValue: kind = .wrongType
        case GIT_EMISMATCH.rawValue: kind = .corruptObject
        default:
            if errorClass == Int32(GIT_ERROR_ZLIB.rawValue) || message.contains("corrupt")
                || message.contains("inflate") {
                kind = .corruptObject
            } else if errorClass == Int32(GIT_ERROR_PATCH.rawValue) {
                kind = .patchFailed
            } else {
                kind = .other
            }
        }
        return GitError(kind: kind, operation: operation, message: message, code: code)
    }
}

/// Copies a `git_buf` into Swift bytes and releases it.
func consume(_ buffer: inout git_buf) -> [UInt8] {
    defer { git_buf_dispose(&buffer) }
    guard let pointer = buffer.ptr, buffer.size > 0 else { return [] }
    return UnsafeRawBufferPointer(start: pointer, count: buffer.size).map { $0 }
}
