internal import CKernels
import Kernels

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
        var storage: [Float] = []
        private(set) var tokens = 0
        private(set) var q = 0, k = 0, v = 0, beta = 0, g = 0

        init(tokens: Int, heads: Int, keyDimension dk: Int, valueDimension dv: Int) {
            reset(tokens: tokens, heads: heads, keyDimension: dk, valueDimension: dv)
        }

        /// Re-lays the buffer out for `tokens` tokens, zeroed, keeping its storage when it is large enough.
        mutating func reset(tokens: Int, heads: Int, keyDimension dk: Int, valueDimension dv: Int) {
            self.tokens = tokens
            q = 0
            k = tokens * heads * dk
            v = 2 * tokens * heads * dk
            beta = v + tokens * heads * dv
            g = beta + tokens * heads
            storage.removeAll(keepingCapacity: true)
            storage.append(contentsOf: repeatElement(0, count: g + tokens * heads))
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
    /// input row r. The (item, head) pairs run across `pool`'s threads (one job of the persistent pool, nothing
    /// allocated) when there is enough work to pay for the wake-up; each pair's arithmetic is the same whichever
    /// thread runs it.
    func run(_ inputs: Inputs, items: [Item], chunkLength: Int, output: UnsafeMutablePointer<Float>,
             pool: ThreadPool? = nil)
    {
        let work = items.reduce(0) { $0 + $1.rows.count } * heads * keyDimension * valueDimension
        inputs.storage.withUnsafeBufferPointer { buffer in
            items.withUnsafeBufferPointer { itemBuffer in
                guard let base = buffer.baseAddress, let first = itemBuffer.baseAddress else { return }
                var job = Job(rule: self, base: base, q: inputs.q, k: inputs.k, v: inputs.v, beta: inputs.beta,
                              g: inputs.g, items: first, output: output, chunkLength: chunkLength)
                withUnsafeMutablePointer(to: &job) { job in
                    ThreadPool.run(work >= 1 << 17 ? pool : nil, count: itemBuffer.count * heads,
                                   context: UnsafeMutableRawPointer(job)) { context, index in
                        context?.assumingMemoryBound(to: Job.self).pointee.runHead(Int(index))
                    }
                }
            }
        }
    }

    /// One `run` call's work, read by the pool's threads: job `index` is head `index % heads` of item
    /// `index / heads`. The pointers are valid for the whole call; head jobs write disjoint slices of the output and
    /// of the states.
    private struct Job {
        let rule: DeltaRule
        /// The inputs' buffer and the offsets of q, k, v, β and g in it (`Inputs`).
        let base: UnsafePointer<Float>
        let q: Int, k: Int, v: Int, beta: Int, g: Int
        let items: UnsafePointer<Item>
        let output: UnsafeMutablePointer<Float>
        let chunkLength: Int

        /// Head `j` of one item: its steps or chunks in position order.
        func runHead(_ index: Int) {
            let h = rule.heads, dk = rule.keyDimension, dv = rule.valueDimension
            let j = index % h, item = items[index / h]
            let hk = h * dk, hv = h * dv
            let first = item.rows.lowerBound
            let q = base + self.q + first * hk + j * dk, k = base + self.k + first * hk + j * dk
            let v = base + self.v + first * hv + j * dv
            let beta = base + self.beta + first * h + j, g = base + self.g + first * h + j
            let state = item.state + j * dk * dv, out = output + first * hv + j * dv
            let count = item.rows.count
            if count == 1 {
                _ = sparrow_delta_rule_step(rule.level, Int64(dk), Int64(dv), q, k, v, beta[0], g[0], state, out)
                return
            }
            let scratchCount = sparrow_delta_rule_chunk_scratch(Int64(min(count, chunkLength)), Int64(dk), Int64(dv))
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: max(scratchCount, 1))
            defer { scratch.deallocate() }
            var offset = 0
            while offset < count {
                let length = min(count - offset, chunkLength - (item.start + offset) % chunkLength)
                _ = sparrow_delta_rule_chunk(rule.level, Int64(length), Int64(dk), Int64(dv), q + offset * hk,
                                             k + offset * hk, Int64(hk), v + offset * hv, Int64(hv), beta + offset * h,
                                             g + offset * h, Int64(h), state, out + offset * hv, Int64(hv), scratch)
                offset += length
            }
        }
    }
}
