import Foundation
@testable import GGUF
import TestSupport
import Testing

@Suite("A file read into memory by several threads")
struct ByteStorageReadingTests {
    /// A temporary file of `count` pseudo-random bytes (a fixed linear congruential sequence).
    private func temporaryFile(bytes count: Int) throws -> (URL, Data) {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let data = Data((0..<count).map { _ -> UInt8 in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 56)
        })
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-read-\(UUID().uuidString)")
        try data.write(to: url)
        return (url, data)
    }

    @Test("every byte lands at its offset, whatever the readers and piece size",
          arguments: [(1, 4096), (2, 4096), (3, 1000), (8, 65_537), (4, 1 << 20)])
    func bytesMatchTheFile(readers: Int, pieceBytes: Int) throws {
        // 300,007 bytes: pieces that do not divide the file, more readers than pieces in the last case.
        let (url, data) = try temporaryFile(bytes: 300_007)
        defer { try? FileManager.default.removeItem(at: url) }
        let storage = try ByteStorage.reading(path: url.path, readers: readers, pieceBytes: pieceBytes)
        #expect(storage.count == data.count)
        let read = Data(storage.buffer)
        #expect(read == data)
        // The copy starts on a huge-page boundary.
        #expect(Int(bitPattern: storage.base) % HugePageRegion.pageBytes == 0)
    }

    @Test("an empty file reads as no bytes")
    func emptyFile() throws {
        let (url, _) = try temporaryFile(bytes: 0)
        defer { try? FileManager.default.removeItem(at: url) }
        let storage = try ByteStorage.reading(path: url.path, readers: 2, pieceBytes: 16)
        #expect(storage.count == 0 && storage.base == nil)
    }

    /// A sysfs file: a regular file whose size says 4,096 bytes but whose reads end after a few (the CPU list), so a
    /// read ends early without a second writer shrinking the file. Nil where there is none (not Linux).
    static let shortFile: (path: String, readable: Int)? = {
        for path in ["/sys/devices/system/cpu/online", "/sys/kernel/mm/transparent_hugepage/enabled"] {
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
                  attributes[.type] as? FileAttributeType == .typeRegular,
                  let size = attributes[.size] as? Int, let contents = FileManager.default.contents(atPath: path),
                  contents.count > 0, contents.count < size, size > 1024
            else { continue }
            return (path, contents.count)
        }
        return nil
    }()

    @Test("a file that ends before its size fails the load with where it ended, on one reader or several",
          .enabled(if: shortFile != nil), arguments: [(1, 1 << 20), (2, 1024), (4, 512)])
    func shortReadFails(readers: Int, pieceBytes: Int) throws {
        let (path, readable) = try #require(Self.shortFile)
        let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        do {
            let storage = try ByteStorage.reading(path: path, readers: readers, pieceBytes: pieceBytes)
            Issue.record("read \(storage.count) bytes of \(path), whose reads end after \(readable)")
        } catch let GGUFError.cannotOpen(failedPath, reason) {
            #expect(failedPath == path)
            // The first piece ends at the readable bytes; a later piece (several readers) ends at its own start.
            let ends = [readable] + stride(from: pieceBytes, to: size, by: pieceBytes).map { $0 }
            #expect(ends.contains { reason == "read failed: the file ended at byte \($0) of \(size)" }, "\(reason)")
        }
    }

    /// Pages of `count` bytes from `start` (page-aligned) that are resident, by `mincore`.
    private func residentPages(_ start: UnsafeRawPointer, _ count: Int) -> Int {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        var vector = [UInt8](repeating: 0, count: (count + page - 1) / page)
        guard mincore(UnsafeMutableRawPointer(mutating: start), count, &vector) == 0 else { return -1 }
        return vector.filter { $0 & 1 != 0 }.count
    }

    @Test("discard gives back the whole huge pages inside a range of memory read from a file, and only those")
    func discardGivesBackWholeHugePages() throws {
        let huge = HugePageRegion.pageBytes
        let (url, data) = try temporaryFile(bytes: 4 * huge + 12_345)
        defer { try? FileManager.default.removeItem(at: url) }
        let storage = try ByteStorage.reading(path: url.path, readers: 2, pieceBytes: huge)
        let base = try #require(storage.base)
        #expect(residentPages(base + 2 * huge, huge) > 0)
        // From 100 bytes into huge page 1 to 100 bytes into page 3: only page 2 lies wholly inside.
        let range = UnsafeRawBufferPointer(start: base + huge + 100, count: 2 * huge)
        #expect(storage.discard(range) == huge)
        #expect(residentPages(base + 2 * huge, huge) == 0)
        #expect(Data(UnsafeRawBufferPointer(start: base, count: 2 * huge)) == data.prefix(2 * huge), "pages before kept")
        #expect(Data(UnsafeRawBufferPointer(start: base + 3 * huge, count: data.count - 3 * huge)) == data.suffix(from: 3 * huge),
                "pages after kept")
        // A range holding no whole huge page, and a mapped file: nothing given back.
        #expect(storage.discard(UnsafeRawBufferPointer(start: base + 3 * huge + 1, count: huge)) == 0)
        let mapped = try ByteStorage.mapping(path: url.path)
        #expect(mapped.discard(mapped.buffer) == 0)
        #expect(Data(mapped.buffer) == data)
    }

    @Test("a tensor whose bytes another record shares is not given back; one alone is")
    func sharedBytesAreKept() throws {
        let huge = HugePageRegion.pageBytes
        let rows = 3 * huge / 144 / 16 * 16  // Q4_K rows of 256 values: over two huge pages of data
        var builder = GGUFBuilder()
        builder.header(tensorCount: 3, pairCount: 0)
        builder.tensorInfo(name: "a", dimensions: [256, UInt64(rows)], typeID: GGMLType.q4_K.rawValue, offset: 0)
        builder.tensorInfo(name: "b", dimensions: [256, UInt64(rows)], typeID: GGMLType.q4_K.rawValue, offset: 0)
        let alone = UInt64((rows * 144 + 31) / 32 * 32)
        builder.tensorInfo(name: "c", dimensions: [256, UInt64(rows)], typeID: GGMLType.q4_K.rawValue, offset: alone)
        builder.pad(to: 32)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-shared-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: url) }
        try builder.bytes.write(to: url)
        let handle = try FileHandle(forWritingTo: url)
        try handle.truncate(atOffset: UInt64(builder.bytes.count) + 2 * alone)
        try handle.close()
        let file = try GGUFFile(contentsOf: url, storage: .memory)
        #expect(file.discard(try file.tensor(named: "a")) == 0, "b shares a's bytes")
        #expect(file.discard(try file.tensor(named: "c")) >= huge)
    }
}
