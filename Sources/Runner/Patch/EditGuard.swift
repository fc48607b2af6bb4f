import Foundation

/// Checks paths and sizes that came from model output before anything is written, and writes only inside the
/// worktree (DESIGN.md §7: no absolute paths, no `..`, nothing under `.git/`, no symlinks, nothing oversize).
/// Every refusal carries a reason for the journal.
struct EditGuard: Sendable {
    /// The worktree (a `TemporaryCheckout` directory).
    let root: URL
    /// Largest replacement or file content accepted from one answer item, in bytes.
    let maxBytes: Int

    init(root: URL, maxBytes: Int = 256 << 10) {
        self.root = root.standardizedFileURL
        self.maxBytes = maxBytes
    }

    /// Why `path` may not be written, or nil when it may. Only the text is checked (see `checkOnDisk`).
    static func problem(with path: String) -> String? {
        if path.isEmpty { return "empty path" }
        if path.hasPrefix("/") { return "absolute path '\(path)' (expected a path relative to the repository root)" }
        if path.unicodeScalars.contains(where: { $0.value < 0x20 || $0 == "\\" }) {
            return "path '\(path.debugDescription)' holds a control character or backslash"
        }
        let components = path.split(separator: "/", omittingEmptySubsequences: false)
        if components.contains("..") { return "path '\(path)' contains '..' (it would leave the worktree)" }
        if components.contains(where: { $0.isEmpty || $0 == "." }) { return "path '\(path)' is not normalised (empty or '.' component)" }
        if components.contains(where: { $0.lowercased() == ".git" }) { return "path '\(path)' is under .git/ (git's own files are never edited)" }
        return nil
    }

    /// Why `path` may not be written given what is on disk: any existing component that is a symlink (it could
    /// lead outside the worktree), or an existing target that is not a regular file.
    func checkOnDisk(_ path: String) -> String? {
        var current = root
        let components = path.split(separator: "/").map(String.init)
        for (index, component) in components.enumerated() {
            current.appendPathComponent(component)
            var info = stat()
            guard lstat(current.path, &info) == 0 else { return nil }  // the rest does not exist yet
            let type = info.st_mode & S_IFMT
            if type == S_IFLNK {
                let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: current.path)) ?? "?"
                return "'\(components[0...index].joined(separator: "/"))' is a symlink (to '\(target)'); edits never follow symlinks"
            }
            if index < components.count - 1, type != S_IFDIR { return "'\(components[0...index].joined(separator: "/"))' is not a directory" }
            if index == components.count - 1, type != S_IFREG { return "'\(path)' is not a regular file" }
        }
        return nil
    }

    /// Why `path` with `bytes` of new content may not be written, or nil.
    func refusal(path: String, bytes: Int) -> String? {
        if let problem = Self.problem(with: path) { return problem }
        if bytes > maxBytes { return "edit of '\(path)' is \(bytes) bytes (at most \(maxBytes) accepted)" }
        return checkOnDisk(path)
    }

    /// The current text of `path` in the worktree (checked first).
    func read(_ path: String) -> (text: String?, refusal: EditRefusal?) {
        if let refusal = refusal(path: path, bytes: 0) { return (nil, EditRefusal(path: path, reason: refusal)) }
        let url = root.appendingPathComponent(path)
        let descriptor = open(url.path, O_RDONLY | O_NOFOLLOW)
        guard descriptor >= 0 else { return (nil, EditRefusal(path: path, reason: "cannot read '\(path)': \(String(cString: strerror(errno)))")) }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        guard let data = try? handle.readToEnd() ?? Data() else {
            return (nil, EditRefusal(path: path, reason: "cannot read '\(path)'"))
        }
        return (String(decoding: data, as: UTF8.self), nil)
    }

    /// Writes `text` to `path` inside the worktree, creating missing directories, never following a symlink.
    func write(_ text: String, to path: String) -> EditRefusal? {
        let data = Data(text.utf8)
        if let refusal = refusal(path: path, bytes: data.count) { return EditRefusal(path: path, reason: refusal) }
        let components = path.split(separator: "/").map(String.init)
        var directory = root
        for component in components.dropLast() {
            directory.appendPathComponent(component)
            if mkdir(directory.path, 0o755) != 0 && errno != EEXIST {
                return EditRefusal(path: path, reason: "cannot create '\(directory.path)': \(String(cString: strerror(errno)))")
            }
        }
        let url = root.appendingPathComponent(path)
        var before = stat()
        let existed = lstat(url.path, &before) == 0
        let descriptor = open(url.path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0o644)
        guard descriptor >= 0 else {
            return EditRefusal(path: path, reason: "cannot write '\(path)': \(String(cString: strerror(errno)))")
        }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        do { try handle.write(contentsOf: data) } catch {
            return EditRefusal(path: path, reason: "cannot write '\(path)': \(error)")
        }
        // Build tools and caches that compare whole-second modification times (Python's .pyc, make on some
        // file systems) must see every rewrite as newer, or an attempt would run the previous attempt's code.
        var after = stat()
        if existed, fstat(descriptor, &after) == 0, after.st_mtim.tv_sec <= before.st_mtim.tv_sec {
            var times = [
                timespec(tv_sec: 0, tv_nsec: (1 << 30) - 2),  // UTIME_OMIT: keep the access time
                timespec(tv_sec: before.st_mtim.tv_sec + 1, tv_nsec: 0),
            ]
            _ = futimens(descriptor, &times)
        }
        return nil
    }
}

/// An edit or file Sparrow refused to write, and why (journaled).
public struct EditRefusal: Sendable, Hashable, Codable {
    public var path: String
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }
}
