public import GGUF
internal import CKernels

/// What `sparrow bench --kernels` measures: mat-vec throughput per weight type and thread count, beside a
/// STREAM-like triad measured in the same run.
public struct KernelBenchmarkConfiguration: Sendable {
    /// Rows of the weight matrix (outputs of one mat-vec).
    public var rows = 2048
    /// Values per row (ne0).
    public var columns = 8192
    /// Weight types measured, each with its fastest kernel on this CPU.
    public var types: [GGMLType] = [.q4_K, .q6_K, .q8_0, .q4_1]
    /// Pool sizes measured (the calling thread included).
    public var threadCounts = [1, 2]
    /// Timed runs per measurement; the median is reported.
    public var repeats = 5
    /// Bytes each run streams through: the weight matrix is copied until the copies fill this, and the triad's three
    /// arrays fill it too, so both read memory, not a last-level cache.
    public var workingSetBytes = 1 << 30

    /// The defaults of `sparrow bench --kernels`.
    public init() {}
}

/// The numbers of one `sparrow bench --kernels` run (GB/s are 10^9 bytes per second).
public struct KernelBenchmarkReport: Codable, Sendable {
    /// The STREAM-like triad at one thread count.
    public struct Triad: Codable, Sendable {
        /// Pool size, the calling thread included.
        public var threads: Int
        /// Median over every triad run at this thread count; bytes counted as STREAM does: 3 × 4 bytes per element.
        public var gbPerSecond: Double
        /// GB/s of each timed run, in order.
        public var runs: [Double]
        /// Process CPU seconds per wall second over the runs; below `threads` when the machine is shared.
        public var cpuUtilization: Double
    }

    /// One weight type's mat-vec at one thread count.
    public struct Kernel: Codable, Sendable {
        /// The weight type's name (`Q4_K`).
        public var type: String
        /// The kernel level used (`avx2` or `scalar`).
        public var level: String
        /// Pool size, the calling thread included.
        public var threads: Int
        /// Median weight bytes per second over the runs.
        public var gbPerSecond: Double
        /// GB/s of each timed run, in order.
        public var runs: [Double]
        /// Process CPU seconds per wall second over the runs; below `threads` when the machine is shared.
        public var cpuUtilization: Double
        /// Median of the triad runs interleaved with this kernel's runs (one before each), same thread count.
        public var triadGBPerSecond: Double
        /// gbPerSecond / triadGBPerSecond.
        public var fractionOfTriad: Double
    }

    /// The SIMD features of the machine that ran the benchmark.
    public var cpu: CPUFeatures
    /// Whether the C kernels were compiled with optimisation; a debug build's numbers mean little.
    public var optimizedBuild: Bool
    /// The configuration measured (see KernelBenchmarkConfiguration).
    public var rows: Int
    public var columns: Int
    public var repeats: Int
    public var workingSetBytes: Int
    /// The triad per thread count, all its runs pooled.
    public var triad: [Triad]
    /// One entry per weight type and thread count, in configuration order.
    public var kernels: [Kernel]
}

/// Runs the kernel benchmark (`sparrow bench --kernels`). Each timed kernel run follows a timed triad run at the same
/// thread count, so a kernel is compared with the bandwidth the machine gave at that moment (it may be shared).
public enum KernelBenchmark {
    /// Measures every type and thread count of `configuration` (tens of seconds with the defaults).
    public static func run(_ configuration: KernelBenchmarkConfiguration) throws(KernelError) -> KernelBenchmarkReport {
        let pools = try configuration.threadCounts.map { threads throws(KernelError) in
            try ThreadPool(threads: threads)
        }
        let triad = TriadBuffers(bytes: configuration.workingSetBytes)
        defer { triad.deallocate() }
        var triadRuns = [Int: [Sample]]()
        var kernels: [KernelBenchmarkReport.Kernel] = []
        for type in configuration.types {
            let level = KernelLevel.best(for: type)
            let ring = try WeightRing(type: type, configuration)
            defer { ring.deallocate() }
            for pool in pools {
                var triadSamples: [Sample] = [], kernelSamples: [Sample] = []
                for run in 0...configuration.repeats {  // run 0 warms up and is not kept
                    let t = sample(bytes: triad.bytes) { triad.run(pool) }
                    let k = try sample(bytes: ring.bytes) { () throws(KernelError) in
                        try ring.run(level: level, pool: pool)
                    }
                    if run > 0 {
                        triadSamples.append(t)
                        kernelSamples.append(k)
                    }
                }
                triadRuns[pool.threadCount, default: []] += triadSamples
                let gbps = median(kernelSamples.map(\.gbPerSecond))
                let triadGBps = median(triadSamples.map(\.gbPerSecond))
                kernels.append(.init(type: type.name, level: level.rawValue, threads: pool.threadCount,
                                     gbPerSecond: gbps, runs: kernelSamples.map(\.gbPerSecond),
                                     cpuUtilization: utilization(kernelSamples), triadGBPerSecond: triadGBps,
                                     fractionOfTriad: triadGBps > 0 ? gbps / triadGBps : 0))
            }
        }
        let triads = pools.map { pool in
            let samples = triadRuns[pool.threadCount] ?? []
            let runs = samples.map(\.gbPerSecond)
            return KernelBenchmarkReport.Triad(threads: pool.threadCount, gbPerSecond: median(runs), runs: runs,
                                               cpuUtilization: utilization(samples))
        }
        return KernelBenchmarkReport(
            cpu: .current, optimizedBuild: sparrow_ckernels_optimized() != 0, rows: configuration.rows,
            columns: configuration.columns, repeats: configuration.repeats,
            workingSetBytes: configuration.workingSetBytes, triad: triads, kernels: kernels)
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2]
            : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    /// One timed run: throughput, and the wall and process CPU seconds it took.
    struct Sample {
        var gbPerSecond: Double
        var wallSeconds: Double
        var cpuSeconds: Double
    }

    static func utilization(_ samples: [Sample]) -> Double {
        let wall = samples.reduce(0) { $0 + $1.wallSeconds }
        return wall > 0 ? samples.reduce(0) { $0 + $1.cpuSeconds } / wall : 0
    }

    static func sample<E: Error>(bytes: Int, _ body: () throws(E) -> Void) throws(E) -> Sample {
        let cpuStart = sparrow_process_cpu_seconds()
        let start = ContinuousClock.now
        try body()
        let elapsed = ContinuousClock.now - start
        let cpu = sparrow_process_cpu_seconds() - cpuStart
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        return Sample(gbPerSecond: seconds > 0 ? Double(bytes) / seconds / 1e9 : 0, wallSeconds: seconds,
                      cpuSeconds: cpu)
    }
}

/// The triad's three arrays (a = b + s·c), together `bytes` long.
struct TriadBuffers {
    let count: Int
    let a, b, c: UnsafeMutablePointer<Float>
    var bytes: Int { 3 * 4 * count }

    init(bytes: Int) {
        count = max(1, bytes / 12)
        // On cache lines, as STREAM's arrays are.
        a = CacheLineFloats.allocate(count)
        b = CacheLineFloats.allocate(count)
        c = CacheLineFloats.allocate(count)
        a.initialize(repeating: 0, count: count)  // touch every page before timing
        b.initialize(repeating: 1, count: count)
        c.initialize(repeating: 2, count: count)
    }

    func run(_ pool: ThreadPool) { sparrow_triad(pool.handle, a, b, c, 3, Int64(count)) }

    func deallocate() {
        CacheLineFloats.deallocate(a)
        CacheLineFloats.deallocate(b)
        CacheLineFloats.deallocate(c)
    }
}

/// Copies of one random weight matrix filling the working set, and the activation row they are multiplied with.
struct WeightRing {
    let memory: UnsafeMutableRawPointer
    let matrices: [WeightMatrix]
    let activations: QuantizedActivations
    let bytes: Int

    init(type: GGMLType, _ configuration: KernelBenchmarkConfiguration) throws(KernelError) {
        let rowBytes = configuration.columns / type.blockSize * type.bytesPerBlock
        let matrixBytes = rowBytes * configuration.rows
        let copies = max(1, (configuration.workingSetBytes + matrixBytes - 1) / max(1, matrixBytes))
        let memory = UnsafeMutableRawPointer.allocate(byteCount: max(1, matrixBytes * copies), alignment: 64)
        Self.fillRandomBlocks(memory, type: type, bytes: matrixBytes)
        for copy in stride(from: 1, to: copies, by: 1) {
            (memory + copy * matrixBytes).copyMemory(from: memory, byteCount: matrixBytes)
        }
        do {
            matrices = try (0..<copies).map { copy throws(KernelError) in
                try WeightMatrix(name: "bench.\(type.name).\(copy)", type: type, rows: configuration.rows,
                                 columns: configuration.columns, base: UnsafeRawPointer(memory + copy * matrixBytes),
                                 byteCount: matrixBytes)
            }
            var generator = SplitMix(state: 42)
            let x = (0..<configuration.columns).map { _ in Float(generator.unit() * 2 - 1) }
            activations = try QuantizedActivations(x, for: matrices[0])
        } catch {
            memory.deallocate()
            throw error
        }
        self.memory = memory
        self.bytes = matrixBytes * copies
    }

    func run(level: KernelLevel, pool: ThreadPool) throws(KernelError) {
        for matrix in matrices { _ = try MatMul.multiply(matrix, activations, level: level, pool: pool) }
    }

    func deallocate() { memory.deallocate() }

    /// Random quant bytes with every f16 scale field set to 2^-10, so the kernels see finite blocks.
    static func fillRandomBlocks(_ memory: UnsafeMutableRawPointer, type: GGMLType, bytes: Int) {
        var generator = SplitMix(state: UInt64(type.rawValue) &+ 1)
        let words = memory.bindMemory(to: UInt64.self, capacity: bytes / 8)
        for i in 0..<bytes / 8 { words[i] = generator.next() }
        guard type.blockSize > 1 else { return }
        let bytePointer = memory.bindMemory(to: UInt8.self, capacity: bytes)
        let scaleOffsets: [Int] = switch type {
        case .q4_K, .q5_K, .q4_1, .q5_1: [0, 2]
        case .q6_K: [208]
        case .q2_K: [80, 82]
        case .q3_K: [108]
        default: [0]
        }
        let scale: UInt16 = 0x1400
        for block in 0..<bytes / type.bytesPerBlock {
            for offset in scaleOffsets {
                bytePointer[block * type.bytesPerBlock + offset] = UInt8(truncatingIfNeeded: scale)
                bytePointer[block * type.bytesPerBlock + offset + 1] = UInt8(truncatingIfNeeded: scale >> 8)
            }
        }
    }
}

/// SplitMix64, for benchmark data that is the same on every run.
struct SplitMix {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
