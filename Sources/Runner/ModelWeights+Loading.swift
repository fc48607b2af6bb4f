internal import Engine
public import GGUF
public import Jobs
internal import Foundation
internal import Kernels

extension ModelWeights {
    /// What `ModelLoader.load` is asked for: where the file's bytes live, and whether repacked copies are made.
    /// `repacked` reads the file into memory too: Q6_K products of 1-3 activation rows, and every type without a
    /// repacked kernel, read the ggml rows (`ck_x16_takes_batch`), which stream faster from huge pages than from the
    /// file's 4 KiB pages. `auto` reads as `mapped` here: resolve it first (`resolved(forFile:cacheBytes:)`; every
    /// loader and budget check does).
    public var storage: GGUFStorage { self == .memory || self == .repacked ? .memory : .mapped }
    /// Whether Q4_K and Q6_K matrices get repacked copies (where their kernels run).
    public var repack: Bool { self == .repacked }
    /// How many copies of about the model file's size this choice holds in memory on this machine (0, 1 or 2:
    /// `ModelLoader.heldWeightCopies`): counted against the memory limit and the default cache budget.
    public var heldCopies: Int { ModelLoader.heldWeightCopies(storage: storage, repack: repack) }

    /// `auto` made concrete for a model file of `fileBytes`: `repacked` when `repackAvailable` and what a repacked
    /// load holds at its peak (`repackedPeakBytes`, `RepackedFootprint.peakBytes`; two copies of the file when nil)
    /// plus the cache reserve fit in `memoryLimit`, else `memory` when one copy and the reserve fit, else `mapped`.
    /// The reserve is `cacheBytes` (`model.memory`) when set, else a third of `memoryLimit`, so that the default cache
    /// budget keeps room for KV caches, the page cache and the builds of patch tasks. `memoryLimit` is what weights in
    /// memory may take at most (`ResidentMemory.weightsInMemoryLimitBytes`: ¾ of RAM or of the cgroup limit). Every
    /// other choice is returned as it is.
    public func resolved(fileBytes: Int, repackedPeakBytes: Int? = nil, memoryLimit: Int, cacheBytes: Int?,
                         repackAvailable: Bool) -> ModelWeights
    {
        guard self == .auto else { return self }
        let reserve = cacheBytes ?? memoryLimit / 3
        func fits(_ bytes: Int?) -> Bool { fileBytes > 0 && bytes.map { $0 <= memoryLimit - reserve } == true }
        let twice = fileBytes.multipliedReportingOverflow(by: 2)
        if repackAvailable && fits(repackedPeakBytes ?? (twice.overflow ? nil : twice.partialValue)) { return .repacked }
        return fits(fileBytes) ? .memory : .mapped
    }

    /// `resolved(fileBytes:repackedPeakBytes:memoryLimit:cacheBytes:repackAvailable:)` on this machine for the file
    /// at `path` (its size through symbolic links, its repacked footprint from its tensor records; `mapped` when it
    /// cannot be read: loading it then says why), with the line for standard error that says what `auto` chose and
    /// from what (nil for every other choice).
    public func resolved(forFile path: String, cacheBytes: Int?) -> (choice: ModelWeights, line: String?) {
        guard self == .auto else { return (self, nil) }
        let size = ModelLoader.fileBytes(atPath: path) ?? 0
        let limit = ResidentMemory.weightsInMemoryLimitBytes(), kernels = WeightRepacker.isAvailable
        let peak = kernels ? RepackedFootprint(path: path)?.peakBytes : nil
        let choice = resolved(fileBytes: size, repackedPeakBytes: peak, memoryLimit: limit, cacheBytes: cacheBytes,
                              repackAvailable: kernels)
        return (choice, Self.autoChoiceLine(choice, fileBytes: size, repackedPeakBytes: peak, memoryLimit: limit,
                                            cacheBytes: cacheBytes, repackAvailable: kernels))
    }

    /// What `auto` chose for a file of `fileBytes` and from what, for standard error.
    static func autoChoiceLine(_ choice: ModelWeights, fileBytes: Int, repackedPeakBytes: Int? = nil, memoryLimit: Int,
                               cacheBytes: Int?, repackAvailable: Bool) -> String {
        let reserve = cacheBytes.map { String(format: "model.memory %.1f GB", Double($0) / 1e9) }
            ?? String(format: "a third of that, %.1f GB, kept for caches", Double(memoryLimit / 3) / 1e9)
        let kernels = repackAvailable ? "" : "; this CPU has no repacked kernels (AVX2 or AVX-512 VNNI)"
        let repacked = repackedPeakBytes.map { String(format: ", %.1f GB repacked", Double($0) / 1e9) } ?? ""
        return String(format: "model.weights: auto: %@ (the file is %.1f GB%@; weights in memory may take %.1f GB, ",
                      choice.rawValue, Double(fileBytes) / 1e9, repacked, Double(memoryLimit) / 1e9)
            + reserve + kernels + ")"
    }
}
