internal import Engine
public import GGUF
public import Jobs

extension ModelWeights {
    /// What `ModelLoader.load` is asked for: where the file's bytes live, and whether repacked copies are made.
    public var storage: GGUFStorage { self == .memory ? .memory : .mapped }
    /// Whether Q4_K and Q6_K matrices get repacked copies (where their kernels run).
    public var repack: Bool { self == .repacked }
    /// Whether this choice holds about the model file's size in memory on this machine (`ModelLoader.holdsWeightCopy`):
    /// counted against the memory limit and the default cache budget.
    public var holdsCopy: Bool { ModelLoader.holdsWeightCopy(storage: storage, repack: repack) }
}
