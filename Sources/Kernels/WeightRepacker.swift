internal import CKernels
public import GGUF
internal import Foundation

/// Makes and owns copies of Q4_K and Q6_K matrices in the 16-row repacked layout (an opt-in weight layout:
/// `model.weights: repacked`). In a ggml row every 256-value block is one record, so the kernels work one weight
/// row at a time and spend much of their time unpacking it and summing across vector lanes; repacked, one vector
/// holds four values of 16 rows, and one unpacking serves every activation row of a batch (`dot_avx512_x16.c`;
/// `dot_avx2_x16.c` on CPUs without AVX-512 VNNI).
/// Every output keeps the exact integer sums and double terms of the scalar reference, so a matrix gives the same
/// bits in either layout, at any batch size.
///
/// The copies live in anonymous memory advised to use transparent huge pages, in regions of at least
/// `regionBytes`; untouched parts of a region are never resident. The views the repacker returns point into
/// that memory: keep the repacker alive as long as they are used. Its bookkeeping is behind a lock (all of its
/// mutable state is in `state`), so loaders on several threads may share one.
public final class WeightRepacker: @unchecked Sendable {
    /// Bytes reserved at a time (the huge-page size rounds it up).
    public static let regionBytes = 256 << 20

    /// The memory reserved so far and what has been copied into it.
    private struct State {
        var regions: [HugePageRegion] = []
        /// Where the next copy goes in the newest region, and the bytes left there.
        var cursor: UnsafeMutableRawPointer?
        var left = 0
        var bytes = 0, matrices = 0, skipped = 0, discarded = 0
    }

    private let pool: ThreadPool?
    private let level: KernelLevel
    private let lock = NSLock()
    private var state = State()  // only under `lock`

    /// Bytes of repacked copies made so far.
    public var bytes: Int { withState { $0.bytes } }
    /// Matrices (experts counted one by one) copied so far.
    public var matrices: Int { withState { $0.matrices } }
    /// Matrices left in the ggml layout because their type or shape has no repacked form or kernel.
    public var skipped: Int { withState { $0.skipped } }
    /// Bytes of ggml originals given back to the system because their copies serve every product.
    public var discardedOriginalBytes: Int { withState { $0.discarded } }

    /// Records `bytes` of originals given back (`GGUFFile.discard`).
    public func noteOriginalsDiscarded(_ bytes: Int) { withState { $0.discarded += bytes } }

    /// A repacker that repacks on `pool` (nil: this thread) for kernels of `level` (default: the level products run
    /// at, `KernelLevel.best`, which `SPARROW_KERNEL_LEVEL` caps: below AVX-512 there are no repacked kernels, and
    /// no copies are made). The originals stay in use where Q6_K products of 1-3 activation rows read them
    /// (`ck_x16_takes_batch`); a loader may give back those whose copies serve every product
    /// (`copyServesEveryProduct(of:)`, `GGUFFile.discard`).
    public init(pool: ThreadPool?, level: KernelLevel? = nil) {
        self.pool = pool
        self.level = level ?? KernelLevel.best(for: .q4_K)
    }

    /// Runs `body` on the bookkeeping, under the lock.
    private func withState<T, E: Error>(_ body: (inout State) throws(E) -> T) throws(E) -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&state)
    }

    deinit {
        withState { for region in $0.regions { region.release() } }
    }

    /// Whether this machine can run `type` repacked at the repacker's level.
    public func hasKernel(for type: GGMLType) -> Bool {
        sparrow_has_repacked_kernel(type.rawValue, level.cValue) != 0
    }

    /// Whether every product of a matrix of `type` that has a copy reads only the copy, whatever its number of
    /// activation rows (Q4_K: yes; Q6_K: products of 1-3 rows read the ggml rows, `ck_x16_takes_batch`), so that the
    /// ggml original may be given back once every reader holds the copy.
    /// Only when the repacker's level is the one products run at (`KernelLevel.best(for:)`).
    public func copyServesEveryProduct(of type: GGMLType) -> Bool {
        level == KernelLevel.best(for: type) && hasKernel(for: type) && Self.copyServesEveryProduct(type)
    }

    /// `copyServesEveryProduct(of:)` where the kernel exists (the rule alone, for estimates made before loading).
    public static func copyServesEveryProduct(_ type: GGMLType) -> Bool {
        copyServesProduct(of: type, batch: 1)
    }

    /// Whether a product of `batch` activation rows with a repacked copy of a `type` matrix reads the copy (where the
    /// level has the kernel) rather than the ggml rows: Q4_K from 1 row, Q6_K from 4 (`ck_x16_takes_batch`).
    static func copyServesProduct(of type: GGMLType, batch: Int) -> Bool {
        sparrow_repacked_takes_batch(type.rawValue, Int64(batch)) != 0
    }

    /// Whether this machine runs the AMX kernels of the repacked layouts (`dot_amx_x16.c`; AMX-INT8 and Linux's
    /// permission for the tile data). Products of 4 or more activation rows with a repacked copy take them, with the
    /// same bits, only when `SPARROW_AMX=on` (opt-in: slower than the VNNI kernels so far).
    public static var hasMatrixUnitKernels: Bool { sparrow_has_amx() != 0 }

    /// Whether copies would be made on this machine at the default level (AVX2 or AVX-512 VNNI, not capped below AVX2).
    public static var isAvailable: Bool {
        sparrow_has_repacked_kernel(GGMLType.q4_K.rawValue, KernelLevel.best(for: .q4_K).cValue) != 0
    }

    /// Bytes of the repacked layout of `matrix`, 0 when it has none (type other than Q4_K/Q6_K, rows not a
    /// multiple of 16).
    public static func repackedBytes(_ matrix: WeightMatrix) -> Int {
        repackedBytes(type: matrix.type, rows: matrix.rows, columns: matrix.columns)
    }

    /// Bytes of the repacked layout of a `rows` × `columns` matrix of `type`, 0 when it has none.
    public static func repackedBytes(type: GGMLType, rows: Int, columns: Int) -> Int {
        Int(sparrow_repacked_bytes(type.rawValue, Int64(rows), Int64(columns)))
    }

    /// `matrix` with a repacked copy, or `matrix` unchanged when its type or shape has no repacked form or
    /// this machine no kernel for it.
    public func repack(_ matrix: WeightMatrix) throws(KernelError) -> WeightMatrix {
        try repack(experts: [matrix])[0]
    }

    /// Every matrix of `experts` (one 3-D tensor's slabs: same type and shape) with a repacked copy, made in one
    /// piece of memory; unchanged when they have no repacked form here.
    public func repack(experts: [WeightMatrix]) throws(KernelError) -> [WeightMatrix] {
        guard let first = experts.first else { return experts }
        let each = Self.repackedBytes(first)
        guard each > 0, hasKernel(for: first.type),
              experts.allSatisfy({ $0.type == first.type && $0.rows == first.rows && $0.columns == first.columns })
        else {
            withState { $0.skipped += experts.count }
            return experts
        }
        let memory = try allocate(each * experts.count, for: first.name)
        var result: [WeightMatrix] = []
        result.reserveCapacity(experts.count)
        for (index, matrix) in experts.enumerated() {
            let destination = memory + index * each
            let status = sparrow_repack(pool?.handle, matrix.type.rawValue, matrix.base, Int64(matrix.rows),
                                            Int64(matrix.columns), destination)
            guard status == 0 else {
                throw .badShape(tensor: matrix.name, type: matrix.type.name, rows: matrix.rows,
                                columns: matrix.columns, reason: "expected a shape the repacked layout takes")
            }
            var copy = matrix
            copy.repacked = UnsafeRawPointer(destination)
            result.append(copy)
        }
        withState {
            $0.bytes += each * experts.count
            $0.matrices += experts.count
        }
        return result
    }

    /// The repacked layout of `matrix` as bytes, on any CPU (the packing is portable C; only the kernels need AVX2
    /// or AVX-512 VNNI): what the layout tests read. Empty when the matrix has no repacked form.
    static func layoutBytes(of matrix: WeightMatrix) -> [UInt8] {
        let count = repackedBytes(matrix)
        guard count > 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: count)
        let status = bytes.withUnsafeMutableBytes { out in
            sparrow_repack(nil, matrix.type.rawValue, matrix.base, Int64(matrix.rows), Int64(matrix.columns),
                           out.baseAddress)
        }
        return status == 0 ? bytes : []
    }

    /// `count` bytes, 64-byte aligned, from the current region or a new one.
    private func allocate(_ count: Int, for tensor: String) throws(KernelError) -> UnsafeMutableRawPointer {
        let rounded = (count + 63) & ~63
        return try withState { (s: inout State) throws(KernelError) -> UnsafeMutableRawPointer in
            if let cursor = s.cursor, s.left >= rounded {
                s.cursor = cursor + rounded
                s.left -= rounded
                return cursor
            }
            let region: HugePageRegion
            do throws(HugePageRegion.ReservationError) {
                region = try HugePageRegion.reserve(max(rounded, Self.regionBytes))
            } catch {
                throw .memoryUnavailable(tensor: tensor, bytes: max(rounded, Self.regionBytes), reason: error.reason)
            }
            s.regions.append(region)
            s.cursor = region.start + rounded
            s.left = region.size - rounded
            return region.start
        }
    }
}
