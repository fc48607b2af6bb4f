internal import Engine
public import GGUF
public import Jobs

extension ModelWeights {
    /// What `ModelLoader.load` is asked for: where the file's bytes live, and whether repacked copies are made.
    /// `repacked` reads the file into memory too: products of one activation row read the ggml rows
    /// (`ck_x16_takes_batch`), which stream faster from huge pages than from the file's 4 KiB pages.
    public var storage: GGUFStorage { self == .mapped ? .mapped : .memory }
    /// Whether Q4_K and Q6_K matrices get repacked copies (where their kernels run).
    public var repack: Bool { self == .repacked }
    /// How many copies of about the model file's size this choice holds in memory on this machine (0, 1 or 2:
    /// `ModelLoader.heldWeightCopies`): counted against the memory limit and the default cache budget.
    public var heldCopies: Int { ModelLoader.heldWeightCopies(storage: storage, repack: repack) }
}
