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
    /// Whether the bytes are the file read into anonymous huge-page memory (`reading`), which `discard` can return.
    private let readIntoMemory: Bool
    private let release: @Sendable (UnsafeRawPointer?, Int) -> Void

    private init(base: UnsafeRawPointer?, count: Int, readIntoMemory: Bool = false,
                 release: @escaping @Sendable (UnsafeRawPointer?, Int) -> Void)
    {
        self.base = base
        self.count = count
        self.readIntoMemory = readIntoMemory
        self.release = release
    }

    /// Returns the huge pages that lie wholly inside `bytes` (a range of this storage) to the system, when the file
    /// was read into memory; their addresses are then made inaccessible, so a later read of them crashes instead of
    /// seeing zeros. Returns the bytes given back (0 for a mapped or copied file, or a range holding no whole huge
    /// page). For bytes nothing will read again: the ggml originals of weights that have a copy serving every product.
    func discard(_ bytes: UnsafeRawBufferPointer) -> Int {
        guard readIntoMemory, let base, let start = bytes.baseAddress, start >= base,
              start + bytes.count <= base + count
        else { return 0 }
        let pages = HugePageRegion.wholePages(from: start - base, to: start - base + bytes.count)
        guard !pages.isEmpty else { return 0 }
        let first = UnsafeMutableRawPointer(mutating: base + pages.lowerBound)
        // Inaccessible first: if that fails (the mapping cannot be split further, vm.max_map_count), nothing is given
        // back, so no read can ever see zeros where weights were.
        guard mprotect(first, pages.count, PROT_NONE) == 0 else { return 0 }
        #if os(Linux)
        _ = madvise(first, pages.count, MADV_DONTNEED)
        #else
        _ = madvise(first, pages.count, MADV_FREE)
        #endif
        return pages.count
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
    ///
    /// `readers` threads (at least 1) read `pieceBytes` pieces (64 MiB) in turn, and all stop at the first failure:
    /// the kernel zeroes each huge page on first touch inside the read, and on a virtual machine that first touch is
    /// most of the cost, so it is spread over cores. (Measured 2026-11-30 on a 3.46 GB file from the page cache,
    /// 2-core VM: 0.72-8.95 s with one reader, 0.31-1.07 s with two.)
    static func reading(path: String, readers: Int = ByteStorage.defaultReaders, pieceBytes: Int = 64 << 20) throws
        -> ByteStorage
    {
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
        let piece = min(max(1, pieceBytes), size)
        let pieces = (size + piece - 1) / piece
        let threads = max(1, min(readers, pieces))
        let failures = ReadFailures()
        let target = SendablePointer(base)
        DispatchQueue.concurrentPerform(iterations: threads) { reader in
            for index in stride(from: reader, to: pieces, by: threads) {
                if failures.first != nil { return }  // another reader failed: the load fails, stop reading
                let start = index * piece, end = min(size, start + piece)
                if let reason = readRange(fd, into: target.pointer, from: start, to: end, of: size) {
                    failures.record(reason)
                    return
                }
            }
        }
        if let reason = failures.first {
            region.release()
            throw GGUFError.cannotOpen(path: path, reason: "read failed: " + reason)
        }
        guard mprotect(base, size, PROT_READ) == 0 else {
            let reason = String(cString: strerror(errno))
            region.release()
            throw GGUFError.cannotOpen(path: path, reason: "mprotect failed: " + reason)
        }
        return ByteStorage(base: UnsafeRawPointer(base), count: size, readIntoMemory: true) { _, _ in region.release() }
    }

    /// Threads that read a file into memory by default: every core, at most 8.
    static var defaultReaders: Int { min(8, max(1, ProcessInfo.processInfo.activeProcessorCount)) }

    /// Reads bytes `start..<end` of `fd` (a file of `size` bytes when opened) to the same offsets from `base`; the
    /// reason when it fails.
    private static func readRange(_ fd: Int32, into base: UnsafeMutableRawPointer, from start: Int, to end: Int,
                                  of size: Int) -> String? {
        var done = start
        while done < end {
            let got = pread(fd, base + done, end - done, off_t(done))
            if got < 0 && errno == EINTR { continue }
            guard got > 0 else {
                return got == 0 ? "the file ended at byte \(done) of \(size)" : String(cString: strerror(errno))
            }
            done += got
        }
        return nil
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

/// A pointer handed to reader threads, each of which writes only its own pieces.
private struct SendablePointer: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer
    init(_ pointer: UnsafeMutableRawPointer) { self.pointer = pointer }
}

/// The first reason a reader thread failed, if any.
private final class ReadFailures: @unchecked Sendable {
    private let lock = NSLock()
    private var reason: String?

    func record(_ reason: String) {
        lock.lock()
        defer { lock.unlock() }
        if self.reason == nil { self.reason = reason }
    }

    var first: String? {
        lock.lock()
        defer { lock.unlock() }
        return reason
    }
}
