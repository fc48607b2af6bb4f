/// Where an open GGUF file's bytes live.
public enum GGUFStorage: String, Sendable, CaseIterable {
    /// A private read-only mapping of the file (the default): opening reads nothing, pages come from the page cache
    /// on first use, processes that map one file share its pages, and the kernel may reclaim them under pressure.
    case mapped
    /// The whole file read at open into anonymous memory advised to use 2 MiB transparent huge pages (when the
    /// kernel's `transparent_hugepage/enabled` is `madvise` or `always`): streaming the weights then takes one TLB
    /// entry per 2 MiB instead of 512, which decoding notices (measured in the README's performance section). Costs
    /// the read at open and the file's size in memory the kernel cannot reclaim; for a model that fits in RAM.
    case memory
}
