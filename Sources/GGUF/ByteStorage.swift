internal import Foundation
#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// Read-only bytes of a GGUF file: a private read-only `mmap` of the file (the default), the file read into
/// anonymous huge-page memory (`GGUFStorage.memory`), or a copy of bytes held in memory (tests, fuzzing). The
/// memory stays valid for the storage's lifetime and is never written, which is why sharing it across threads is
/// safe.
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

    /// Reads the file at `path` into anonymous memory asked to be backed by transparent huge pages (2 MiB on x86-64:
    /// one TLB entry where a file mapping needs 512 of 4 KiB), starting on a huge-page boundary. Costs a read of the
    /// whole file at load and the file's size in resident memory the kernel cannot reclaim (it can still drop the
    /// page cache the file was read through).
    static func reading(path: String) throws -> ByteStorage {
        let (fd, size) = try openRegularFile(path)
        defer { close(fd) }
        guard size > 0 else { return ByteStorage(base: nil, count: 0, release: { _, _ in }) }
        let region: HugePageRegion
        do {
            region = try HugePageRegion.reserve(size)
        } catch {
            throw GGUFError.cannotOpen(path: path, reason: error.reason)
        }
        let base = region.start
        var done = 0
        while done < size {
            let got = pread(fd, base + done, min(size - done, 64 << 20), off_t(done))
            if got < 0 && errno == EINTR { continue }
            guard got > 0 else {
                let reason = got == 0 ? "the file ended at byte \(done) of \(size)" : String(cString: strerror(errno))
                region.release()
                throw GGUFError.cannotOpen(path: path, reason: "read failed: " + reason)
            }
            done += got
        }
        guard mprotect(base, size, PROT_READ) == 0 else {
            let reason = String(cString: strerror(errno))
            region.release()
            throw GGUFError.cannotOpen(path: path, reason: "mprotect failed: " + reason)
        }
        return ByteStorage(base: UnsafeRawPointer(base), count: size) { _, _ in region.release() }
    }

    /// Maps the file at `path` read-only.
    static func mapping(path: String) throws -> ByteStorage {
        let (fd, size) = try openRegularFile(path)
        defer { close(fd) }
        guard size > 0 else { return ByteStorage(base: nil, count: 0, release: { _, _ in }) }
        guard let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), mapped != MAP_FAILED else {
            throw GGUFError.cannotOpen(path: path, reason: "mmap failed: " + String(cString: strerror(errno)))
        }
        return ByteStorage(base: UnsafeRawPointer(mapped), count: size) { base, count in
            if let base { munmap(UnsafeMutableRawPointer(mutating: base), count) }
        }
    }

    /// Opens `path` read-only and returns the descriptor (the caller closes it) and the file's size; throws when it
    /// cannot be opened or is not a regular file.
    private static func openRegularFile(_ path: String) throws -> (Int32, Int) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw GGUFError.cannotOpen(path: path, reason: String(cString: strerror(errno))) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw GGUFError.cannotOpen(path: path, reason: reason)
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw GGUFError.cannotOpen(path: path, reason: "not a regular file")
        }
        return (fd, Int(info.st_size))
    }
}
