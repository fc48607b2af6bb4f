public import GGUF
internal import CKernels

/// What `sparrow bench --kernels` measures: mat-vec throughput per weight type and thread count, beside a
/// STREAM-like triad measured in the same run.
public struct KernelBenchmarkConfiguration: Sendable {
    public var rows = 2048
    public var columns = 8192
    public var types: [GGMLType] = [.q4_K, .q6_K, .q8_0, .q4_1]
    public var threadCounts = [1, 2]
    /// Timed runs per measurement; the median is reported.
    public var repeats = 5
    /// Bytes each measurement streams through: the weight matrix is copied until the copies fill this, so the
    /// weights come from memory, not from a last-level cache.
    public var workingSetBytes = 1 << 30

    public init() {}
}

/// The numbers of one `sparrow bench --kernels` run (GB/s are 10^9 bytes per second).
public struct KernelBenchmarkReport: Codable, Sendable {
    public struct Triad: Codable, Sendable {
        public var threads: Int
        /// Median over the runs; bytes counted as STREAM does: 3 × 4 bytes per element (write-allocate not counted).
        public var gbPerSecond: Double
        public var runs: [Double]
        /// Process CPU seconds per wall second over the timed runs; below `threads` when the machine is shared.
        public var cpuUtilization: Double
    }

    public struct Kernel: Codable, Sendable {
        public var type: String
        public var level: String
        public var threads: Int
        /// Median weight bytes per second over the runs.
        public var gbPerSecond: Double
        public var runs: [Double]
        /// Process CPU seconds per wall second over the timed runs; below `threads` when the machine is shared.
        public var cpuUtilization: Double
        /// gbPerSecond / the triad's gbPerSecond at the same thread count.
        public var fractionOfTriad: Double
    }

    public var cpu: CPUFeatures
    /// Whether the C kernels were compiled with optimisation; a debug build's numbers mean little.
    public var optimizedBuild: Bool
    public var rows: Int
    public var columns: Int
    public var repeats: Int
    public var workingSetBytes: Int
    public var triad: [Triad]
    public var kernels: [Kernel]
}

/// Runs the kernel benchmark (`sparrow bench --kernels`).
public enum KernelBenchmark {
    public static func run(_ configuration: KernelBenchmarkConfiguration) throws(KernelError) -> KernelBenchmarkReport {
        let pools = try configuration.threadCounts.map { threads throws(KernelError) in try ThreadPool(threads: threads) }
        var triads: [KernelBenchmarkReport.Triad] = []
        for pool in pools {
            let (runs, cpu) = triad(pool: pool, bytes: configuration.workingSetBytes, repeats: configuration.repeats)
            triads.append(.init(threads: pool.threadCount, gbPerSecond: median(runs), runs: runs, cpuUtilization: cpu))
        }
        var kernels: [KernelBenchmarkReport.Kernel] = []
        for type in configuration.types {
            let level = KernelLevel.best(for: type)
            for (pool, triad) in zip(pools, triads) {
                let (runs, cpu) = try matVec(type, configuration, level: level, pool: pool)
                let gbps = median(runs)
                kernels.append(.init(type: type.name, level: level.rawValue, threads: pool.threadCount, gbPerSecond: gbps,
                                     runs: runs, cpuUtilization: cpu,
                                     fractionOfTriad: triad.gbPerSecond > 0 ? gbps / triad.gbPerSecond : 0))
            }
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

    /// Runs `body` once untimed, then `repeats` times; returns GB/s per timed run and CPU per wall second.
    static func measure<E: Error>(bytes: Int, repeats: Int, _ body: () throws(E) -> Void) throws(E)
        -> (runs: [Double], cpuUtilization: Double)
    {
        try body()
        var runs: [Double] = []
        var wall = 0.0
        let cpuStart = sparrow_process_cpu_seconds()
        for _ in 0..<repeats {
            let start = ContinuousClock.now
            try body()
            let elapsed = ContinuousClock.now - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            wall += seconds
            runs.append(Double(bytes) / seconds / 1e9)
        }
        let cpu = sparrow_process_cpu_seconds() - cpuStart
        return (runs, wall > 0 ? cpu / wall : 0)
    }

    /// GB/s of a = b + s·c over three arrays that together fill `bytes`; one untimed run first.
    static func triad(pool: ThreadPool, bytes: Int, repeats: Int) -> (runs: [Double], cpuUtilization: Double) {
        let n = max(1, bytes / 12)
        let a = UnsafeMutablePointer<Float>.allocate(capacity: n)
        let b = UnsafeMutablePointer<Float>.allocate(capacity: n)
        let c = UnsafeMutablePointer<Float>.allocate(capacity: n)
        defer { a.deallocate(); b.deallocate(); c.deallocate() }
        a.initialize(repeating: 0, count: n)
        b.initialize(repeating: 1, count: n)
        c.initialize(repeating: 2, count: n)
        return measure(bytes: 3 * 4 * n, repeats: repeats) { sparrow_triad(pool.handle, a, b, c, 3, Int64(n)) }
    }

    /// GB/s of weight bytes for mat-vecs over enough copies of one random matrix to fill the working set.
    static func matVec(_ type: GGMLType, _ configuration: KernelBenchmarkConfiguration, level: KernelLevel,
                       pool: ThreadPool) throws(KernelError) -> (runs: [Double], cpuUtilization: Double)
    {
        let rowBytes = configuration.columns / type.blockSize * type.bytesPerBlock
        let matrixBytes = rowBytes * configuration.rows
        let copies = max(1, (configuration.workingSetBytes + matrixBytes - 1) / matrixBytes)
        let memory = UnsafeMutableRawPointer.allocate(byteCount: matrixBytes * copies, alignment: 64)
        defer { memory.deallocate() }
        fillRandomBlocks(memory, type: type, bytes: matrixBytes)
        for copy in stride(from: 1, to: copies, by: 1) {
            (memory + copy * matrixBytes).copyMemory(from: memory, byteCount: matrixBytes)
        }
        let matrices = try (0..<copies).map { copy throws(KernelError) in
            try WeightMatrix(name: "bench.\(type.name).\(copy)", type: type, rows: configuration.rows,
                             columns: configuration.columns, base: UnsafeRawPointer(memory + copy * matrixBytes),
                             byteCount: matrixBytes)
        }
        var generator = SplitMix(state: 42)
        let x = (0..<configuration.columns).map { _ in Float(generator.unit() * 2 - 1) }
        let activations = try QuantizedActivations(x, for: matrices[0])
        return try measure(bytes: matrixBytes * copies, repeats: configuration.repeats) { () throws(KernelError) in
            for matrix in matrices { _ = try MatMul.multiply(matrix, activations, level: level, pool: pool) }
        }
    }

    /// Random quant bytes with every f16 scale field set to a small finite value, so the kernels see real blocks.
    static func fillRandomBlocks(_ memory: UnsafeMutableRawPointer, type: GGMLType, bytes: Int) {
        var generator = SplitMix(state: UInt64(type.rawValue) &+ 1)
        let words = memory.bindMemory(to: UInt64.self, capacity: bytes / 8)
        for i in 0..<bytes / 8 { words[i] = generator.next() }
        let bytePointer = memory.bindMemory(to: UInt8.self, capacity: bytes)
        let scaleOffsets: [Int] = switch type {
        case .q4_K, .q5_K, .q4_1, .q5_1: [0, 2]
        case .q6_K: [208]
        case .q2_K: [80, 82]
        case .q3_K: [108]
        default: [0]
        }
        let scale: UInt16 = 0x1400  // 2^-10
        guard type.blockSize > 1 else { return }
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
