internal import Foundation
#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// Read-only bytes of a GGUF file: a private read-only `mmap` of the file (the default), or a copy of bytes held
/// in memory (tests, fuzzing). The memory stays valid for the storage's lifetime and is never written, which is
/// why sharing it across threads is safe.
final class ByteStorage: @unchecked Sendable {
    /// The first byte; nil only when `count` is 0.
    let base: UnsafeRawPointer?
    /// Number of bytes.
    let count: Int
    private let release: @Sendable (UnsafeRawPointer?, Int) -> Void

    private init(base: UnsafeRawPointer?, count: Int, release: @escaping @Sendable (UnsafeRawPointer?, Int) -> Void) {
        self.base = base
        self.count = count
        self.release = release
    }

    deinit { release(base, count) }

    var buffer: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// Copies `data` into memory owned by the storage.
    static func copying(_ data: Data) -> ByteStorage {
        guard !data.isEmpty else { return ByteStorage(base: nil, count: 0, release: { _, _ in }) }
        let memory = UnsafeMutableRawPointer.allocate(byteCount: data.count, alignment: 64)
        data.withUnsafeBytes { source in
            if let from = source.baseAddress { memory.copyMemory(from: from, byteCount: source.count) }
        }
        return ByteStorage(base: UnsafeRawPointer(memory), count: data.count) { base, _ in
            base.map { UnsafeMutableRawPointer(mutating: $0).deallocate() }
        }
    }

    /// Maps the file at `path` read-only.
    static func mapping(path: String) throws -> ByteStorage {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw GGUFError.cannotOpen(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw GGUFError.cannotOpen(path: path, reason: String(cString: strerror(errno)))
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw GGUFError.cannotOpen(path: path, reason: "not a regular file")
        }
        let size = Int(info.st_size)
        guard size > 0 else { return ByteStorage(base: nil, count: 0, release: { _, _ in }) }
        guard let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), mapped != MAP_FAILED else {
            throw GGUFError.cannotOpen(path: path, reason: "mmap failed: " + String(cString: strerror(errno)))
        }
        return ByteStorage(base: UnsafeRawPointer(mapped), count: size) { base, count in
            if let base { munmap(UnsafeMutableRawPointer(mutating: base), count) }
        }
    }
}
