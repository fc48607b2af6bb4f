public import Foundation
public import GGUF

/// A byte-level GGUF builder for unit tests. Unlike `GGUFWriter`, it writes whatever it is told (wrong counts,
/// bad type ids, misaligned offsets), so tests can make the malformed files the reader must reject. It records
/// the byte offset of every field it writes, so a test can assert the offset an error names.
public struct GGUFBuilder: Sendable {
    /// The bytes written so far.
    public private(set) var bytes = Data()
    /// Byte offset of each field written, by a label the caller gave (`"magic"`, `"kv.0.type"`, ...).
    public private(set) var offsets: [String: Int] = [:]

    public init() {}

    /// Appends a little-endian integer, remembering its offset under `label` when given.
    public mutating func integer<T: FixedWidthInteger>(_ value: T, label: String? = nil) {
        mark(label)
        Swift.withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// Appends a GGUF string (u64 length, then the bytes); `length` overrides the stored length.
    public mutating func string(_ text: String, length: UInt64? = nil, label: String? = nil) {
        mark(label)
        integer(length ?? UInt64(text.utf8.count))
        bytes.append(contentsOf: Array(text.utf8))
    }

    /// Appends raw bytes.
    public mutating func raw(_ data: [UInt8], label: String? = nil) {
        mark(label)
        bytes.append(contentsOf: data)
    }

    /// Appends the header: magic, version, tensor count and key/value count.
    public mutating func header(version: UInt32 = 3, tensorCount: UInt64, pairCount: UInt64, magic: UInt32 = 0x4655_4747) {
        integer(magic, label: "magic")
        integer(version, label: "version")
        integer(tensorCount, label: "tensor_count")
        integer(pairCount, label: "kv_count")
    }

    /// Appends a tensor info record.
    public mutating func tensorInfo(name: String, dimensions: [UInt64], typeID: UInt32, offset: UInt64, label: String? = nil) {
        mark(label)
        string(name)
        integer(UInt32(dimensions.count), label: label.map { "\($0).n_dims" })
        for dim in dimensions { integer(dim) }
        integer(typeID, label: label.map { "\($0).type" })
        integer(offset, label: label.map { "\($0).offset" })
    }

    /// Pads with zeros to the next multiple of `alignment`.
    public mutating func pad(to alignment: Int) {
        bytes.append(Data(count: (alignment - bytes.count % alignment) % alignment))
    }

    private mutating func mark(_ label: String?) {
        if let label { offsets[label] = bytes.count }
    }

    /// A small valid model file made with `GGUFWriter`: architecture `arch`, one F32 norm, one Q8_0 matrix and
    /// one Q4_K matrix whose bytes are `seed`-dependent pseudo-random values.
    public static func smallModel(arch: String = "llama", seed: UInt64 = 1) throws -> Data {
        var writer = try GGUFWriter()
        try writer.set("general.architecture", .string(arch))
        try writer.set("\(arch).block_count", .uint32(1))
        try writer.set("tokenizer.ggml.tokens", .array(.string(["<s>", "</s>", "a", "b"])))
        var generator = Random(seed: seed)
        func noise(_ count: Int) -> Data { Data((0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }) }
        try writer.addTensor(name: "blk.0.attn_norm.weight", dimensions: [32], type: GGUFTensorType(.f32), data: noise(128))
        try writer.addTensor(name: "blk.0.attn_q.weight", dimensions: [32, 2], type: GGUFTensorType(.q8_0), data: noise(68))
        try writer.addTensor(name: "output.weight", dimensions: [256, 1], type: GGUFTensorType(.q4_K), data: noise(144))
        return writer.serialized()
    }
}

extension GGUFBuilder {
    /// Writes to `url` a GGUF file of architecture `architecture` whose tensors (`name`, `{columns, rows[, count]}`,
    /// `type`) are laid out one after another, 32-byte aligned, and sparse on disk (their data reads as zeros): a file
    /// of any size whose records say what it holds, for checks made from the records before any read. Returns the
    /// offset in the file of each tensor's data.
    @discardableResult
    public static func writeSparseModel(to url: URL, architecture: String = "qwen3",
                                        tensors: [(name: String, type: GGMLType, dimensions: [Int])]) throws -> [Int]
    {
        var builder = GGUFBuilder()
        builder.header(tensorCount: UInt64(tensors.count), pairCount: 1)
        builder.string("general.architecture")
        builder.integer(UInt32(8))  // GGUF string
        builder.string(architecture)
        var offset = 0
        var offsets: [Int] = []
        for tensor in tensors {
            builder.tensorInfo(name: tensor.name, dimensions: tensor.dimensions.map { UInt64($0) },
                               typeID: tensor.type.rawValue, offset: UInt64(offset))
            offsets.append(offset)
            let values = tensor.dimensions.reduce(1, *)
            offset += (values / tensor.type.blockSize * tensor.type.bytesPerBlock + 31) / 32 * 32
        }
        builder.pad(to: 32)
        let dataStart = builder.bytes.count
        try builder.bytes.write(to: url)
        let handle = try FileHandle(forWritingTo: url)
        try handle.truncate(atOffset: UInt64(dataStart + offset))
        try handle.close()
        return offsets.map { dataStart + $0 }
    }
}

extension GGUFBuilder {
/// A small deterministic pseudo-random generator (SplitMix64) for reproducible test data and fuzz cases.
public struct Random: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
}
