import Dispatch
internal import CKernels

/// The gated delta rule of Gated DeltaNet (REFERENCE.md §3.4) per value head j with state S_j `// (dk, dv)`:
/// S ← e^g S; S += k (β (v − Sᵀk))ᵀ; o = Sᵀq. Two forms that agree to rounding:
/// - recurrent, one token at a time (transformers' `torch_recurrent_gated_delta_rule`), used for decode;
/// - chunked, the WY / UT-transform form of transformers' `torch_chunk_gated_delta_rule`, used for prefill.
///
/// The arithmetic is `sparrow_delta_rule_step` / `sparrow_delta_rule_chunk` (CKernels, delta_rule.c): every output a
/// chain of fused multiply-adds in a fixed order, the same bits at every SIMD level. Heads (and the sequences of a
/// batch) are independent and each runs the same fixed-order loops, so spreading them over threads never changes a
/// bit of the result.
struct DeltaRule: Sendable {
    let heads: Int
    let keyDimension: Int
    let valueDimension: Int
    /// The CKernels level (`SPARROW_DELTA_RULE_*`); every level gives the same bits, tests compare them.
    var level: Int32 = DeltaRule.bestLevel

    /// The fastest level this CPU runs.
    static let bestLevel = Int32(sparrow_delta_rule_best_level())
    /// The levels this CPU runs, scalar reference first.
    static var availableLevels: [Int32] { Array(0...bestLevel) }

    init(heads: Int, keyDimension: Int, valueDimension: Int) {
        self.heads = heads
        self.keyDimension = keyDimension
        self.valueDimension = valueDimension
    }

    /// The inputs of a run of tokens (one sequence's, or a whole batch's rows), in one buffer: q and k
    /// `// (tokens, heads, dk)` (L2-normalised, q scaled by 1/√dk, key heads already repeated per value head), v
    /// `// (tokens, heads, dv)`, β and g `// (tokens, heads)`.
    struct Inputs {
        var storage: [Float]
        let tokens: Int
        let q: Int, k: Int, v: Int, beta: Int, g: Int

        init(tokens: Int, heads: Int, keyDimension dk: Int, valueDimension dv: Int) {
            self.tokens = tokens
            q = 0
            k = tokens * heads * dk
            v = 2 * tokens * heads * dk
            beta = v + tokens * heads * dv
            g = beta + tokens * heads
            storage = [Float](repeating: 0, count: g + tokens * heads)
        }
    }

    /// One sequence's part of a run: its rows of the inputs and of the output, the absolute position of its first
    /// row, and its state `// (heads, dk, dv)`.
    struct Item: @unchecked Sendable {
        // The pointers stay valid for the whole `run` call (the caller holds the buffers), and each item's state
        // and output rows are touched by that item's head jobs only.
        var rows: Range<Int>
        var start: Int
        var state: UnsafeMutablePointer<Float>
    }

    /// Runs one sequence's `inputs` (tokens at absolute positions `start…`) through `state`, writing `heads × dv`
    /// outputs per token to `output` from row `outputRow`.
    func run(_ inputs: Inputs, start: Int, chunkLength: Int, state: inout [Float], output: inout [Float],
             outputRow: Int)
    {
        let hv = heads * valueDimension
        state.withUnsafeMutableBufferPointer { state in
            output.withUnsafeMutableBufferPointer { output in
                guard let state = state.baseAddress, let output = output.baseAddress else { return }
                run(inputs, items: [Item(rows: 0..<inputs.tokens, start: start, state: state)],
                    chunkLength: chunkLength, output: output + outputRow * hv)
            }
        }
    }

    /// Runs every item: one token uses the recurrent form; more use the chunked form in chunks that end at absolute
    /// multiples of `chunkLength`, so a prefix computed in an earlier call, or restored from a snapshot at a
    /// boundary, gives exactly what one long call gives. `output` is `// (inputs.tokens, heads, dv)`, row r for
    /// input row r. The (item, head) pairs run on several threads when there is enough work to pay for them.
    func run(_ inputs: Inputs, items: [Item], chunkLength: Int, output: UnsafeMutablePointer<Float>) {
        let work = items.reduce(0) { $0 + $1.rows.count } * heads * keyDimension * valueDimension
        inputs.storage.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            let shared = Shared(base: base, output: output)
            let jobs = items.count * heads
            let body: @Sendable (Int) -> Void = { job in
                runHead(job % heads, of: items[job / heads], inputs: inputs, shared: shared,
                        chunkLength: chunkLength)
            }
            if jobs > 1, work >= 1 << 17 {
                DispatchQueue.concurrentPerform(iterations: jobs, execute: body)
            } else {
                for job in 0..<jobs { body(job) }
            }
        }
    }

    /// The buffers of one `run`; head jobs write disjoint slices of the output, which makes sharing it safe.
    private struct Shared: @unchecked Sendable {
        let base: UnsafePointer<Float>
        let output: UnsafeMutablePointer<Float>
    }

    /// Head `j` of one item: its steps or chunks in position order.
    private func runHead(_ j: Int, of item: Item, inputs: Inputs, shared: Shared, chunkLength: Int) {
        let dk = keyDimension, dv = valueDimension, h = heads
        let hk = h * dk, hv = h * dv
        let base = shared.base, first = item.rows.lowerBound
        let q = base + inputs.q + first * hk + j * dk, k = base + inputs.k + first * hk + j * dk
        let v = base + inputs.v + first * hv + j * dv
        let beta = base + inputs.beta + first * h + j, g = base + inputs.g + first * h + j
        let state = item.state + j * dk * dv, out = shared.output + first * hv + j * dv
        let count = item.rows.count
        if count == 1 {
            _ = sparrow_delta_rule_step(level, Int64(dk), Int64(dv), q, k, v, beta[0], g[0], state, out)
            return
        }
        let scratchCount = sparrow_delta_rule_chunk_scratch(Int64(min(count, chunkLength)), Int64(dk), Int64(dv))
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: max(scratchCount, 1))
        defer { scratch.deallocate() }
        var offset = 0
        while offset < count {
            let length = min(count - offset, chunkLength - (item.start + offset) % chunkLength)
            _ = sparrow_delta_rule_chunk(level, Int64(length), Int64(dk), Int64(dv), q + offset * hk, k + offset * hk,
                                         Int64(hk), v + offset * hv, Int64(hv), beta + offset * h, g + offset * h,
                                         Int64(h), state, out + offset * hv, Int64(hv), scratch)
            offset += length
        }
    }
}
