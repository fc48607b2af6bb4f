/// Everything that can go wrong reading or writing a GGUF file. Every case raised while parsing names the byte
/// offset where the problem was found, what was expected there and what the file held instead.
public enum GGUFError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file could not be opened or mapped.
    case cannotOpen(path: String, reason: String)
    /// The file ends before `what`, which needs `needed` bytes at `offset`.
    case truncated(what: String, offset: Int, needed: Int, fileSize: Int)
    /// The first four bytes are not `GGUF`.
    case badMagic(found: UInt32)
    /// The version field is not 2 or 3.
    case unsupportedVersion(UInt32, offset: Int)
    /// A count or length read at `offset` cannot fit in the rest of the file (at most `limit`).
    case countTooLarge(what: String, count: UInt64, offset: Int, limit: UInt64)
    /// A field at `offset` holds a value outside what the format allows.
    case invalidValue(what: String, offset: Int, expected: String, found: String)
    /// A metadata key appears twice; `offset` is the second occurrence.
    case duplicateKey(String, offset: Int)
    /// A tensor name appears twice; `offset` is the second occurrence.
    case duplicateTensor(String, offset: Int)
    /// A tensor's type id is not a ggml type this reader knows the block layout of.
    case unknownTensorType(tensor: String, typeID: UInt32, offset: Int)
    /// A tensor's data, `byteCount` bytes at absolute byte `start`, does not fit in the file.
    case tensorOutOfBounds(tensor: String, infoOffset: Int, start: UInt64, byteCount: UInt64, fileSize: Int)
    /// No tensor of this name is in the file.
    case tensorNotFound(String)
    /// A required metadata key is absent.
    case metadataMissing(key: String)
    /// A metadata key holds a value of another type than the caller asked for.
    case metadataType(key: String, expected: String, found: String)
    /// The writer was given something it cannot encode.
    case invalidWrite(String)

    /// A one-line message naming what was expected, what was found and where (byte offset or path).
    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason):
            "cannot open GGUF file '\(path)': \(reason)"
        case .truncated(let what, let offset, let needed, let fileSize):
            "truncated GGUF: expected \(needed) byte(s) of \(what) at byte \(offset), but the file ends at byte \(fileSize)"
        case .badMagic(let found):
            "not a GGUF file: expected the magic 'GGUF' (0x46554747) at byte 0, found 0x\(String(found, radix: 16))"
        case .unsupportedVersion(let version, let offset):
            "unsupported GGUF version \(version) at byte \(offset): expected 2 or 3"
                + (version == 1 ? " (version 1 is obsolete)" : "")
        case .countTooLarge(let what, let count, let offset, let limit):
            "invalid GGUF: \(what) at byte \(offset) is \(count), but the rest of the file can hold at most "
                + "\(limit) (truncated or corrupt file)"
        case .invalidValue(let what, let offset, let expected, let found):
            "invalid GGUF: \(what) at byte \(offset): expected \(expected), found \(found)"
        case .duplicateKey(let key, let offset):
            "invalid GGUF: metadata key '\(key)' at byte \(offset) appears more than once"
        case .duplicateTensor(let name, let offset):
            "invalid GGUF: tensor '\(name)' at byte \(offset) appears more than once"
        case .unknownTensorType(let tensor, let typeID, let offset):
            "invalid GGUF: tensor '\(tensor)' (info at byte \(offset)) has ggml type id \(typeID), "
                + "which is not a known ggml type"
        case .tensorOutOfBounds(let tensor, let infoOffset, let start, let byteCount, let fileSize):
            "invalid GGUF: tensor '\(tensor)' (info at byte \(infoOffset)) needs \(byteCount) byte(s) of data "
                + "from byte \(start), but the file ends at byte \(fileSize)"
        case .tensorNotFound(let name):
            "no tensor named '\(name)' in the GGUF file"
        case .metadataMissing(let key):
            "GGUF metadata key '\(key)' is missing"
        case .metadataType(let key, let expected, let found):
            "GGUF metadata key '\(key)': expected \(expected), found \(found)"
        case .invalidWrite(let reason):
            "cannot write GGUF: \(reason)"
        }
    }
}
