internal import Foundation
#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// Anonymous read-write memory that starts on a transparent-huge-page boundary and is advised (on Linux) to be
/// backed by huge pages: where weights read into memory (`GGUFStorage.memory`) and repacked copies of them live.
/// Pages are only made resident when first written. Released explicitly with `release()`, never twice.
public struct HugePageRegion: @unchecked Sendable {
    /// Why memory could not be reserved (the system's message).
    public struct ReservationError: Error, Sendable {
        public let reason: String
    }

    /// The first usable byte, on a huge-page boundary.
    public let start: UnsafeMutableRawPointer
    /// Usable bytes from `start`.
    public let size: Int
    private let mapping: UnsafeMutableRawPointer
    private let mapped: Int

    /// Reserves at least `bytes` (> 0) usable bytes.
    public static func reserve(_ bytes: Int) throws(ReservationError) -> HugePageRegion {
        let hugePage = pageBytes
        let size = (bytes + hugePage - 1) / hugePage * hugePage
        let mapped = size + hugePage  // room to move the start to a huge-page boundary
        guard let mapping = mmap(nil, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              mapping != MAP_FAILED
        else {
            throw ReservationError(reason: "cannot reserve \(mapped) bytes of memory: " + String(cString: strerror(errno)))
        }
        let offset = (hugePage - Int(bitPattern: mapping) % hugePage) % hugePage
        let start = mapping + offset
        #if os(Linux)
        _ = madvise(start, size, MADV_HUGEPAGE)  // advice only: without THP the memory still works, on small pages
        #endif
        return HugePageRegion(start: start, size: size, mapping: mapping, mapped: mapped)
    }

    /// Returns the memory to the system.
    public func release() {
        munmap(mapping, mapped)
    }

    /// The huge pages (of `pageBytes`) that lie wholly inside byte offsets `start ..< end` of memory starting on a
    /// huge-page boundary, as offsets (empty when there is none).
    public static func wholePages(from start: Int, to end: Int, pageBytes: Int = pageBytes) -> Range<Int> {
        guard pageBytes > 0 else { return 0..<0 }
        let first = (start + pageBytes - 1) / pageBytes * pageBytes, last = end / pageBytes * pageBytes
        return first < last ? first..<last : 0..<0
    }

    /// The kernel's transparent huge-page size (`hpage_pmd_size`), 2 MiB where it cannot be read.
    public static let pageBytes: Int = {
        let text = try? String(contentsOfFile: "/sys/kernel/mm/transparent_hugepage/hpage_pmd_size", encoding: .utf8)
        guard let value = text.flatMap({ Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }),
              value > 0, value & (value - 1) == 0
        else { return 2 << 20 }
        return value
    }()
}
