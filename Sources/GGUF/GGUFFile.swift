public import Foundation

/// A parsed GGUF v2/v3 file. The file is mapped read-only once (or, with `GGUFStorage.memory`, read once into
/// huge-page memory); tensor data is never copied after that: `tensor(named:)` returns views into those bytes.
/// Every count, length and offset was checked against the file size while parsing, so a corrupt or truncated file
/// is a `GGUFError` naming the byte offset, never a crash.
public final class GGUFFile: Sendable {
    /// The format version (2 or 3; they share one layout).
    public let version: UInt32
    /// The key/value metadata.
    public let metadata: GGUFMetadata
    /// Tensor records in file order.
    public let tensors: [GGUFTensorInfo]
    /// The data alignment (`general.alignment`, else 32).
    public let alignment: Int
    /// Absolute byte offset of the tensor-data section.
    public let dataOffset: Int
    /// Size of the file in bytes.
    public var fileSize: Int { storage.count }
    /// How the bytes are held: mapped from the file or read into memory; nil for an image given as `Data`.
    public let storedAs: GGUFStorage?

    private let storage: ByteStorage
    private let tensorIndex: [String: Int]

    /// Maps (or, with `storage: .memory`, reads) and parses the file at `url`.
    public convenience init(contentsOf url: URL, storage: GGUFStorage = .mapped) throws {
        switch storage {
        case .mapped: try self.init(storage: ByteStorage.mapping(path: url.path), storedAs: storage)
        case .memory: try self.init(storage: ByteStorage.reading(path: url.path), storedAs: storage)
        }
    }

    /// Parses a GGUF image held in memory (tests, fuzzing); the bytes are copied once.
    public convenience init(bytes: Data) throws {
        try self.init(storage: ByteStorage.copying(bytes), storedAs: nil)
    }

    private init(storage: ByteStorage, storedAs: GGUFStorage?) throws {
        let parsed = try GGUFParser.parse(storage.buffer)
        self.storage = storage
        self.storedAs = storedAs
        version = parsed.version
        metadata = parsed.metadata
        tensors = parsed.tensors
        alignment = parsed.alignment
        dataOffset = parsed.dataOffset
        var index: [String: Int] = [:]
        for (position, tensor) in parsed.tensors.enumerated() { index[tensor.name] = position }
        tensorIndex = index
    }

    /// The record of tensor `name`, or nil.
    public func tensorInfo(named name: String) -> GGUFTensorInfo? {
        tensorIndex[name].map { tensors[$0] }
    }

    /// A zero-copy view of tensor `name`'s data; throws `tensorNotFound` when absent.
    public func tensor(named name: String) throws -> GGUFTensorView {
        guard let info = tensorInfo(named: name) else { throw GGUFError.tensorNotFound(name) }
        return try view(of: info)
    }

    /// A zero-copy view of the data of `info`, a record of this file; throws when `info` came from another
    /// file and does not fit in this one.
    public func view(of info: GGUFTensorInfo) throws -> GGUFTensorView {
        // The parser checked this for every record of this file; a record of another file is checked here.
        let (end, overflow) = info.absoluteOffset.addingReportingOverflow(info.byteCount)
        guard info.absoluteOffset >= 0, info.byteCount >= 0, !overflow, end <= storage.count else {
            throw GGUFError.tensorOutOfBounds(
                tensor: info.name, infoOffset: info.infoOffset, start: UInt64(max(info.absoluteOffset, 0)),
                byteCount: UInt64(max(info.byteCount, 0)), fileSize: storage.count
            )
        }
        let bytes = UnsafeRawBufferPointer(rebasing: storage.buffer[info.absoluteOffset..<(info.absoluteOffset + info.byteCount)])
        return GGUFTensorView(info: info, bytes: bytes, owner: storage)
    }

    /// Gives the memory of `view`'s bytes back to the system where the file was read into memory
    /// (`GGUFStorage.memory`): every huge page wholly inside them. Reading those bytes afterwards crashes (they are
    /// made inaccessible rather than left to read as zeros), so this is for a tensor no one will read again: weights
    /// whose repacked copy serves every product. Nothing is given back when another tensor's record shares any of
    /// those bytes (the parser checks each record's bounds, not that records are disjoint). Returns the bytes given
    /// back (0 for a mapped file).
    @discardableResult
    public func discard(_ view: GGUFTensorView) -> Int {
        let start = view.info.absoluteOffset, end = start + view.info.byteCount
        let shared = tensors.contains { other in
            other.name != view.info.name && other.byteCount > 0 && other.absoluteOffset < end
                && start < other.absoluteOffset + other.byteCount
        }
        return shared ? 0 : storage.discard(view.bytes)
    }
}

/// A tensor's bytes inside a mapped GGUF file. The view keeps the mapping alive, so `bytes` stays valid as long
/// as the view (or a copy) exists. The memory is read-only and shared.
public struct GGUFTensorView: @unchecked Sendable {
    /// The tensor's record.
    public let info: GGUFTensorInfo
    /// The tensor's data: `info.byteCount` bytes, rows of `info.rowByteCount` bytes one after another.
    public let bytes: UnsafeRawBufferPointer
    private let owner: AnyObject

    init(info: GGUFTensorInfo, bytes: UnsafeRawBufferPointer, owner: AnyObject) {
        self.info = info
        self.bytes = bytes
        self.owner = owner
    }

    /// The bytes of row `row` (0 ..< info.rowCount), or nil when out of range. For a 3-D expert tensor
    /// `{ne0, ne1, n_expert}`, expert e's rows are `e × ne1 ..< (e + 1) × ne1`.
    public func row(_ row: Int) -> UnsafeRawBufferPointer? {
        guard row >= 0, row < info.rowCount else { return nil }
        let size = info.rowByteCount
        return UnsafeRawBufferPointer(rebasing: bytes[(row * size)..<((row + 1) * size)])
    }
}
