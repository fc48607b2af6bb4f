import Hashing
import Foundation
#if canImport(Glibc)
import Glibc
#endif
public import GGUF
public import Kernels

/// A model ready to serve: its forward pass, its tokenizer and a stable identity for journal keys.
public struct LoadedModel: Sendable {
    /// The forward pass (a `TransformerModel` for llama, qwen3 and qwen3moe; a `Qwen3NextModel` for qwen3next).
    public let model: any LanguageModel
    /// The tokenizer and chat template built from the same file.
    public let tokenizer: GGUFTokenizer
    /// `sha256:<hex of the header, metadata and tensor records>:<file size>`: equal for equal files, cheap to compute
    /// for a multi-GB file (the tensor data is not hashed; its layout and size are).
    public let identity: String
    /// The file's size in bytes.
    public let fileSize: Int
    /// Where the weights live: mapped from the file or read into memory.
    public let weights: GGUFStorage
    /// Bytes of repacked copies of the weights (`repack:`), 0 when none were made.
    public var repackedBytes = 0
    /// Bytes of the file read into memory given back because their repacked copies serve every product (the Q4_K
    /// experts' originals: `WeightRepacker.copyServesEveryProduct`).
    public var discardedBytes = 0
    /// Bytes of weights this process holds in memory: the file read into memory, less what was given back, plus the
    /// repacked copies (0 for a mapped file without copies).
    public var heldBytes: Int { (weights == .memory ? fileSize - discardedBytes : 0) + repackedBytes }
}

/// Loads a GGUF model: maps the file (or reads it into memory), reads the `<arch>.*` hyper-parameters, checks every
/// tensor's shape against them and builds the architecture's forward pass over those bytes (copying only with `repack`).
public enum ModelLoader {
    /// The architectures Sparrow implements, by `general.architecture`.
    public static let supportedArchitectures = [Llama.architecture, Qwen3.architecture, Qwen3MoE.architecture,
                                                Qwen3Next.architecture]

    /// Loads the model at `path`; `threads` matrix threads (default: every core), or a pool shared with others.
    /// `storage`: the weights mapped from the file (default) or read into huge-page memory (`GGUFStorage`).
    /// `repack`: also copy the Q4_K and Q6_K matrices into the 16-row repacked layout (`WeightRepacker`).
    public static func load(path: String, threads: Int? = nil, storage: GGUFStorage = .mapped,
                            repack: Bool = false) throws(EngineError) -> LoadedModel
    {
        let pool: ThreadPool
        do {
            pool = try ThreadPool(threads: threads ?? ProcessInfo.processInfo.activeProcessorCount)
        } catch {
            throw .model(path: path, reason: error.description)
        }
        return try load(path: path, pool: pool, storage: storage, repack: repack)
    }

    /// Loads the model at `path`, running its matrix products on `pool` (nil: on the calling thread).
    public static func load(path: String, pool: ThreadPool?, storage: GGUFStorage = .mapped,
                            repack: Bool = false) throws(EngineError) -> LoadedModel
    {
        let repacking = repack && WeightRepacker.isAvailable
        let copies = heldWeightCopies(storage: storage, repack: repack)
        if copies > 0 { try checkFitsInMemory(path, copies: copies, what: repack ? "repacked" : "memory") }
        let file: GGUFFile
        do {
            file = try GGUFFile(contentsOf: URL(fileURLWithPath: path), storage: storage)
        } catch {
            throw .model(path: path, reason: "\(error)")
        }
        let repacker = repacking ? WeightRepacker(pool: pool) : nil
        let model = try makeModel(file, path: path, pool: pool, repacker: repacker)
        let tokenizer = try GGUFTokenizer(metadata: file.metadata, path: path)
        var loaded = LoadedModel(model: model, tokenizer: tokenizer, identity: try identity(path: path, file: file),
                                 fileSize: file.fileSize, weights: file.storedAs ?? .mapped)
        if let repacker {
            loaded.repackedBytes = repacker.bytes
            loaded.discardedBytes = repacker.discardedOriginalBytes
        }
        return loaded
    }

    /// How many copies of about the file's size loading with these options holds in anonymous memory: one for
    /// the weights read into memory, one for repacked copies (made only where their kernels run: AVX2 or AVX-512 VNNI).
    public static func heldWeightCopies(storage: GGUFStorage, repack: Bool) -> Int {
        (storage == .memory ? 1 : 0) + (repack && WeightRepacker.isAvailable ? 1 : 0)
    }

    /// The size of the file at `path`, following symbolic links as opening it does (a model in a Hugging Face cache
    /// is a link into its blob store; `FileManager.attributesOfItem` would give the link's own size); nil when it
    /// cannot be read.
    public static func fileBytes(atPath path: String) -> Int? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Int(info.st_size)
    }

    /// Refuses to hold `copies` copies of a file in memory when together they are more than three quarters of the
    /// memory this process may use (RAM, or the container's cgroup limit): that load would end in the kernel's OOM
    /// killer, not an error. Two copies (`repacked`) are counted as what a repacked load of this file holds at its
    /// peak (`RepackedFootprint`), or as two full copies when the file's records cannot be read.
    static func checkFitsInMemory(_ path: String, copies: Int, what: String) throws(EngineError) {
        guard let size = fileBytes(atPath: path) else { return }  // opening the file reports what is wrong with it
        let held = copies > 1 ? RepackedFootprint(path: path)?.peakBytes ?? size * copies : size * copies
        guard held <= ResidentMemory.weightsInMemoryLimitBytes() else {
            let limit = ResidentMemory.limitBytes()
            let holds = copies > 1
                ? String(format: "this choice holds %.1f GB (the file and its repacked copies)", Double(held) / 1e9)
                : "this choice holds it 1× in memory"
            throw .model(path: path, reason: String(
                format: "model.weights: %@: the file is %.1f GB and %@, more than three quarters of the %.1f GB this "
                    + "process may use (RAM or its cgroup limit); map it instead (model.weights: mapped)",
                what, Double(size) / 1e9, holds, Double(limit) / 1e9))
        }
    }

    /// The forward pass of a parsed file.
    static func makeModel(_ file: GGUFFile, path: String, pool: ThreadPool?, repacker: WeightRepacker? = nil)
        throws(EngineError) -> any LanguageModel
    {
        let architecture: String
        do {
            architecture = try file.metadata.string("general.architecture")
        } catch {
            throw .model(path: path, reason: "\(error)")
        }
        guard supportedArchitectures.contains(architecture) else {
            throw .architectureNotImplemented(architecture, supported: supportedArchitectures, path: path)
        }
        let hyper = try HyperParameters(metadata: file.metadata, architecture: architecture, path: path)
        let source = TensorSource(file: file, path: path, repacker: repacker)
        let name = file.metadata["general.name"]?.stringValue ?? URL(fileURLWithPath: path).lastPathComponent
        switch architecture {
        case Llama.architecture: return try Llama.load(source, hyper, name: name, pool: pool)
        case Qwen3.architecture: return try Qwen3.load(source, hyper, name: name, pool: pool)
        case Qwen3Next.architecture: return try Qwen3Next.load(source, hyper, name: name, pool: pool)
        default: return try Qwen3MoE.load(source, hyper, name: name, pool: pool)
        }
    }

    /// SHA-256 of the bytes before the tensor data (header, metadata, tensor records), plus the file size.
    static func identity(path: String, file: GGUFFile) throws(EngineError) -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw .model(path: path, reason: "cannot open the file to compute its identity")
        }
        defer { try? handle.close() }
        let header: Data
        do {
            header = try handle.read(upToCount: file.dataOffset) ?? Data()
        } catch {
            throw .model(path: path, reason: "cannot read the header: \(error)")
        }
        return "sha256:\(SHA256.hexDigest(header)):\(file.fileSize)"
    }
}
