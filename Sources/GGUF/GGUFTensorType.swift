/// A tensor's ggml type id as read from the file, with its block layout. Files may hold types Sparrow has no
/// kernels for (IQ2_XXS, TQ1_0, MXFP4, ...); the reader still needs their block sizes to bounds-check the data,
/// so it knows every id of ggml's enum that appears in files, while `ggmlType` is set only for the types in
/// `GGMLType` (the ones the kernels support).
public struct GGUFTensorType: Sendable, Hashable, CustomStringConvertible {
    /// The ggml type id (`enum ggml_type`).
    public let id: UInt32
    /// The name llama.cpp and gguf-py print (`Q4_K`, `IQ2_XXS`).
    public let name: String
    /// Values per block.
    public let blockSize: Int
    /// Bytes per block.
    public let bytesPerBlock: Int

    /// The supported type, or nil when Sparrow has no kernels for this one.
    public var ggmlType: GGMLType? { GGMLType(rawValue: id) }

    /// The type's name, as llama.cpp prints it.
    public var description: String { name }

    /// The layout of type `id`, or nil when the id is not a ggml type that can appear in a file.
    public init?(id: UInt32) {
        if let known = GGMLType(rawValue: id) {
            self.init(id: id, name: known.name, blockSize: known.blockSize, bytesPerBlock: known.bytesPerBlock)
            return
        }
        // Block layouts of ggml types Sparrow does not compute with (ggml-common.h; REFERENCE.md §1.3).
        let other: (String, Int, Int)? = switch id {
        case 16: ("IQ2_XXS", 256, 66)
        case 17: ("IQ2_XS", 256, 74)
        case 18: ("IQ3_XXS", 256, 98)
        case 19: ("IQ1_S", 256, 50)
        case 21: ("IQ3_S", 256, 110)
        case 22: ("IQ2_S", 256, 82)
        case 24: ("I8", 1, 1)
        case 25: ("I16", 1, 2)
        case 26: ("I32", 1, 4)
        case 27: ("I64", 1, 8)
        case 28: ("F64", 1, 8)
        case 29: ("IQ1_M", 256, 56)
        case 34: ("TQ1_0", 256, 54)
        case 35: ("TQ2_0", 256, 66)
        case 39: ("MXFP4", 32, 17)
        default: nil
        }
        guard let (name, blockSize, bytesPerBlock) = other else { return nil }
        self.init(id: id, name: name, blockSize: blockSize, bytesPerBlock: bytesPerBlock)
    }

    /// The layout of a supported type.
    public init(_ type: GGMLType) {
        self.init(id: type.rawValue, name: type.name, blockSize: type.blockSize, bytesPerBlock: type.bytesPerBlock)
    }

    private init(id: UInt32, name: String, blockSize: Int, bytesPerBlock: Int) {
        self.id = id
        self.name = name
        self.blockSize = blockSize
        self.bytesPerBlock = bytesPerBlock
    }
}
