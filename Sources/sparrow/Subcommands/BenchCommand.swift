import ArgumentParser
import Foundation
import Kernels

/// `sparrow bench --kernels [--json]`: kernel GB/s beside a STREAM-like triad (DESIGN.md §5).
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure speed. --kernels: mat-vec GB/s of Q4_K, Q6_K, Q8_0 and Q4_1 beside the memory bandwidth."
    )

    @Flag(help: "Benchmark the quantized mat-vec kernels (2048 × 8192 weights, 1 and 2 threads, median of 5).")
    var kernels = false

    @Flag(help: "Print the report as JSON.")
    var json = false

    @Option(help: "MiB each measurement streams through (copies of the matrix; larger than the last-level cache).")
    var workingSetMb = 1024

    @Option(help: "Timed runs per measurement (the median is reported).")
    var repeats = 5

    func validate() throws {
        guard kernels else {
            throw ValidationError(
                "only `sparrow bench --kernels` is available yet; model benchmarks come with the engine")
        }
        guard workingSetMb >= 1, repeats >= 1 else {
            throw ValidationError("expected --working-set-mb ≥ 1 and --repeats ≥ 1")
        }
    }

    func run() throws {
        var configuration = KernelBenchmarkConfiguration()
        configuration.workingSetBytes = workingSetMb << 20
        configuration.repeats = repeats
        let report = try KernelBenchmark.run(configuration)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(Self.table(report))
        }
    }

    static func table(_ report: KernelBenchmarkReport) -> String {
        func f(_ value: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", value) }
        var lines = [
            "Kernel mat-vec, \(report.rows) rows × \(report.columns) columns, median of \(report.repeats) runs, "
                + "\(report.workingSetBytes >> 20) MiB streamed per run",
            "CPU: avx2 \(report.cpu.avx2), fma \(report.cpu.fma), f16c \(report.cpu.f16c); "
                + "optimised C build: \(report.optimizedBuild)"
                + (report.optimizedBuild ? "" : " (numbers are meaningless: use `swift build -c release`)"),
            "",
            "triad  threads  GB/s    CPU used",
        ]
        for triad in report.triad {
            let gbps = f(triad.gbPerSecond).padding(toLength: 8, withPad: " ", startingAt: 0)
            lines.append("       \(triad.threads)        \(gbps)\(f(triad.cpuUtilization, 2))")
        }
        lines.append("")
        lines.append("type   level   threads  GB/s    triad   of triad  CPU used")
        for k in report.kernels {
            let type = k.type.padding(toLength: 7, withPad: " ", startingAt: 0)
            let level = k.level.padding(toLength: 8, withPad: " ", startingAt: 0)
            let gbps = f(k.gbPerSecond).padding(toLength: 8, withPad: " ", startingAt: 0)
            let triad = f(k.triadGBPerSecond).padding(toLength: 8, withPad: " ", startingAt: 0)
            let ratio = (f(100 * k.fractionOfTriad, 0) + " %").padding(toLength: 10, withPad: " ", startingAt: 0)
            lines.append("\(type)\(level)\(k.threads)        \(gbps)\(triad)\(ratio)\(f(k.cpuUtilization, 2))")
        }
        lines.append("")
        lines.append("triad: median of the triad runs interleaved with that kernel's runs (one before each).")
        lines.append("CPU used: process CPU seconds per wall second (below the thread count on a shared machine).")
        return lines.joined(separator: "\n")
    }
}
