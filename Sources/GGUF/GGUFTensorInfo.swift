/// One tensor's record from the GGUF header, already checked against the file: its data lies inside the file.
public struct GGUFTensorInfo: Sendable, Hashable {
    /// The tensor's name (`blk.0.attn_q.weight`).
    public let name: String
    /// Dimensions in ggml order: `dimensions[0]` is `ne[0]`, the contiguous axis (the row length).
    public let dimensions: [Int]
    /// The element type and its block layout.
    public let type: GGUFTensorType
    /// Offset of the data relative to the start of the data section, as stored in the file.
    public let relativeOffset: Int
    /// Absolute byte offset of the data in the file.
    public let absoluteOffset: Int
    /// Bytes of data: `ne0 / blockSize × bytesPerBlock × ne1 × ne2 × ne3`.
    public let byteCount: Int
    /// Byte offset of this record in the file (for messages).
    public let infoOffset: Int

    /// Number of values: the product of the dimensions.
    public var elementCount: Int { dimensions.reduce(1, *) }

    /// Number of rows: the product of every dimension but the first (1 for a 1-D tensor).
    public var rowCount: Int { dimensions.dropFirst().reduce(1, *) }

    /// Bytes per row (`ne0 / blockSize × bytesPerBlock`).
    public var rowByteCount: Int { (dimensions.first ?? 1) / type.blockSize * type.bytesPerBlock }
}
