internal import CKernels

/// Causal grouped-query attention over an F32 KV cache for many query rows at once, split across the pool by
/// (row, head) (`attention.c`). Each row's output depends only on its own query and cache positions, in a fixed
/// order, so it is the same whatever else is in the batch and however many threads run.
public struct AttentionKernel: Sendable {
    /// The exponential of the softmax, on every path (`sparrow_attention_exp`): for tests of its accuracy.
    static func softmaxExponential(_ x: Float) -> Float { sparrow_attention_exp(x) }

    /// One query row: where its query and output are, and the cache positions it attends to.
    public struct Row {
        /// `heads × headDimension` values.
        public var query: UnsafePointer<Float>
        /// `heads × headDimension` values, written.
        public var output: UnsafeMutablePointer<Float>
        /// K of positions 0..<positions, one pointer each to the position's `headDimension` floats of KV head 0;
        /// head h's are `headStride` · h floats further.
        public var keys: UnsafePointer<UnsafePointer<Float>>
        /// V of positions 0..<positions, as `keys`.
        public var values: UnsafePointer<UnsafePointer<Float>>
        /// Cache positions attended to (the query's own position + 1).
        public var positions: Int
        /// Floats from one KV head's vector of a position to the next head's, in K and in V: `headDimension` when
        /// a position's heads lie side by side (0 means that too), more when the cache keeps each head's positions
        /// together (`KVCacheState`).
        public var headStride: Int

        public init(query: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                    keys: UnsafePointer<UnsafePointer<Float>>, values: UnsafePointer<UnsafePointer<Float>>,
                    positions: Int, headStride: Int = 0)
        {
            self.query = query
            self.output = output
            self.keys = keys
            self.values = values
            self.positions = positions
            self.headStride = headStride
        }
    }

    public let heads: Int
    public let kvHeads: Int
    public let headDimension: Int

    /// `heads` must be a multiple of `kvHeads` (checked when attending).
    public init(heads: Int, kvHeads: Int, headDimension: Int) {
        self.heads = heads
        self.kvHeads = kvHeads
        self.headDimension = headDimension
    }

    /// Which of the C kernel's paths computes the rows. Every path gives the same bits; the choice is for tests.
    public enum Path: Sendable, CaseIterable {
        /// The fastest the CPU has (AVX-512, else AVX2, else portable).
        case fastest
        /// The AVX2 path even where the CPU has AVX-512 (what a CPU without AVX-512 runs).
        case avx2
        /// The one-(row, head)-at-a-time reference path.
        case portable
    }

    /// Computes every row. `scratch` is resized as needed (one area per pool thread) and can be reused across
    /// calls. `path` picks the kernel path (same bits; for tests); `.avx2` throws `levelUnavailable` on a CPU
    /// without AVX2.
    public func attend(_ rows: [Row], scratch: inout [Float], pool: ThreadPool?, path: Path = .fastest)
        throws(KernelError)
    {
        var table: [sparrow_attention_row] = []
        try attend(rows, scratch: &scratch, table: &table, pool: pool, path: path)
    }

    /// Reusable buffers of `attend(_:workspace:pool:)`: the scratch areas and the C row table.
    public struct Workspace {
        var scores: [Float] = []
        var table: [sparrow_attention_row] = []

        public init() {}
    }

    /// `attend(_:scratch:pool:)` with every buffer in `workspace`, grown geometrically (a decode loop whose cache
    /// grows by one position per step reallocates only when the longest row doubles).
    public func attend(_ rows: [Row], workspace: inout Workspace, pool: ThreadPool?) throws(KernelError) {
        let needed = scratchFloats(rows, pool: pool)
        if workspace.scores.count < needed {
            workspace.scores = [Float](repeating: 0, count: max(needed, 2 * workspace.scores.count))
        }
        try attend(rows, scratch: &workspace.scores, table: &workspace.table, pool: pool, path: .fastest)
    }

    /// Scratch floats `rows` need: one area per pool thread for the longest row.
    private func scratchFloats(_ rows: [Row], pool: ThreadPool?) -> Int {
        let longest = rows.reduce(0) { max($0, $1.positions) }
        let perThread = sparrow_attention_scratch_floats(Int32(heads), Int32(kvHeads), Int32(headDimension), Int64(longest))
        return Int(perThread) * (pool?.threadCount ?? 1)
    }

    private func attend(_ rows: [Row], scratch: inout [Float], table: inout [sparrow_attention_row],
                        pool: ThreadPool?, path: Path) throws(KernelError)
    {
        guard !rows.isEmpty else { return }
        let longest = rows.reduce(0) { max($0, $1.positions) }
        let needed = scratchFloats(rows, pool: pool)
        if scratch.count < needed { scratch = [Float](repeating: 0, count: needed) }
        table.removeAll(keepingCapacity: true)
        for row in rows {
            table.append(sparrow_attention_row(
                q: row.query, out: row.output, k: UnsafePointer<UnsafePointer<Float>?>(OpaquePointer(row.keys)),
                v: UnsafePointer<UnsafePointer<Float>?>(OpaquePointer(row.values)), n_pos: Int64(row.positions),
                kv_head_stride: Int64(row.headStride)))
        }
        let attention = switch path {
        case .fastest: sparrow_attention
        case .avx2: sparrow_attention_avx2
        case .portable: sparrow_attention_portable
        }
        let status = table.withUnsafeBufferPointer { t in
            scratch.withUnsafeMutableBufferPointer { s in
                attention(pool?.handle, t.baseAddress, Int64(t.count), Int32(heads), Int32(kvHeads),
                          Int32(headDimension), s.baseAddress, Int64(longest))
            }
        }
        if status == -2 {
            throw .levelUnavailable(tensor: "attention", type: "F32", level: "AVX2")
        }
        guard status == 0 else {
            throw .badShape(tensor: "attention", type: "F32", rows: rows.count, columns: heads * headDimension,
                            reason: "expected \(heads) query heads as a multiple of \(kvHeads) KV heads of "
                                + "\(headDimension) values, 1 or more cache positions per row and heads at least "
                                + "\(headDimension) floats apart")
        }
    }
}
