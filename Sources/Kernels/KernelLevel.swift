public import GGUF
internal import CKernels
internal import Foundation

/// Which implementation of a row kernel runs: the scalar reference, the AVX2/FMA/F16C one, or the AVX-512 VNNI one,
/// chosen at run time. The AVX-512 level adds multi-row kernels (a weight row against up to 8 activation rows, the
/// batches of prefill and parallel decode) for the types `hasOwnKernel(for:)` names and runs the AVX2 kernels
/// everywhere else (single rows are memory-bound, and AVX2's were the faster there), so on a CPU that has it, it is
/// available wherever AVX2 is.
public enum KernelLevel: String, Sendable, CaseIterable, Codable {
    case scalar
    case avx2
    case avx512

    var cValue: Int32 {
        switch self {
        case .scalar: Int32(SPARROW_LEVEL_SCALAR)
        case .avx2: Int32(SPARROW_LEVEL_AVX2)
        case .avx512: Int32(SPARROW_LEVEL_AVX512)
        }
    }

    /// Whether this level has a kernel for `type` on this CPU (the scalar level covers every supported type; the
    /// AVX-512 level counts the AVX2 kernels it falls back to).
    public func isAvailable(for type: GGMLType) -> Bool {
        GGMLTypeSupport.isSupported(type) && sparrow_has_kernel(type.rawValue, cValue) != 0
    }

    /// Whether this level runs a kernel written for it for `type` on this CPU (for the AVX-512 level: its own
    /// multi-row kernel, not AVX2's).
    public func hasOwnKernel(for type: GGMLType) -> Bool {
        GGMLTypeSupport.isSupported(type) && sparrow_has_own_kernel(type.rawValue, cValue) != 0
    }

    /// Whether this level has, for `type` on this CPU, a kernel that reads 2 to 8 activation rows interleaved into a
    /// tile (what a mat-mul of that many rows uses).
    public func hasTileKernel(for type: GGMLType) -> Bool {
        GGMLTypeSupport.isSupported(type) && sparrow_has_tile_kernel(type.rawValue, cValue) != 0
    }

    /// Whether this level has, for `type` on this CPU, a kernel for a few (2 or 3) activation rows.
    public func hasFewRowsKernel(for type: GGMLType) -> Bool {
        GGMLTypeSupport.isSupported(type) && sparrow_has_few_rows_kernel(type.rawValue, cValue) != 0
    }

    /// The fastest level with a kernel for `type` on this CPU, at most `KernelLevel.ceiling` (looked up: every
    /// product a decode step appends asks, ~1,300 times a step with 8 sequences of qwen3moe).
    public static func best(for type: GGMLType) -> KernelLevel { choice(for: type).level }

    /// Whether `best(for:)` has a kernel for `type` (the scalar level when no other has: only for supported types),
    /// looked up like `best(for:)`.
    public static func bestIsAvailable(for type: GGMLType) -> Bool { choice(for: type).available }

    /// `best(for:)` and whether it has a kernel for `type`: from `choices` for type ids below 64, computed otherwise.
    private static func choice(for type: GGMLType) -> (level: KernelLevel, available: Bool) {
        let index = Int(type.rawValue)
        return index < choices.count ? choices[index] : computedChoice(for: type)
    }

    /// `computedChoice` per type id below 64 (ids without a type: the scalar level, unavailable), computed once.
    private static let choices: [(level: KernelLevel, available: Bool)] = (0..<64).map { raw in
        GGMLType(rawValue: UInt32(raw)).map(computedChoice) ?? (.scalar, false)
    }

    private static func computedChoice(for type: GGMLType) -> (level: KernelLevel, available: Bool) {
        let level = best(for: type, ceiling: ceiling) { $0.isAvailable(for: type) }
        return (level, level.isAvailable(for: type))
    }

    /// The highest level up to `ceiling` that `isAvailable` accepts (the scalar level when none does).
    static func best(for type: GGMLType, ceiling: KernelLevel, isAvailable: (KernelLevel) -> Bool) -> KernelLevel {
        let order: [KernelLevel] = [.avx512, .avx2]
        return order.first { $0.rank <= ceiling.rank && isAvailable($0) } ?? .scalar
    }

    private var rank: Int {
        switch self {
        case .scalar: 0
        case .avx2: 1
        case .avx512: 2
        }
    }

    /// The highest level `best(for:)` picks: `SPARROW_KERNEL_LEVEL` (`scalar`, `avx2` or `avx512`), read once, to
    /// compare levels on one machine; the highest level when unset. An unknown value is reported on standard error
    /// and ignored.
    public static let ceiling: KernelLevel = parseCeiling(ProcessInfo.processInfo.environment["SPARROW_KERNEL_LEVEL"])

    /// The level an environment value names (nil or empty: the highest).
    static func parseCeiling(_ value: String?) -> KernelLevel {
        guard let value, !value.isEmpty else { return .avx512 }
        if let level = KernelLevel(rawValue: value.lowercased()) { return level }
        let expected = allCases.map(\.rawValue).joined(separator: ", ")
        FileHandle.standardError.write(Data(
            "sparrow: SPARROW_KERNEL_LEVEL=\(value) is not one of \(expected); using the fastest level\n".utf8))
        return .avx512
    }
}
