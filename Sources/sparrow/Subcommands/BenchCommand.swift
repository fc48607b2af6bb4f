import ArgumentParser
import Engine
import Foundation
import Jobs
import Kernels
import Runner

/// `sparrow bench MODEL.gguf [--prompt-tokens N] [--gen-tokens N] [--parallel P] [--threads T] [--repeat R]
/// [--weights mapped|memory|repacked|auto] [--depth D] [--json]`:
/// prefill, single-stream and aggregate decode tokens/s, weight bytes per generated token, load time and peak
/// memory; `sparrow bench --kernels [--json]`: kernel GB/s beside a STREAM-like triad (DESIGN.md §4, §9).
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure speed: a model's prefill and decode tokens/s, or (--kernels) mat-vec GB/s beside the memory bandwidth."
    )

    @Argument(help: "The GGUF model file to benchmark (omit with --kernels).")
    var model: String?

    @Flag(help: "Benchmark the quantized mat-vec kernels (2048 × 8192 weights, 1 and 2 threads, median of 5).")
    var kernels = false

    @Flag(help: "Print the report as one JSON document.")
    var json = false

    @Option(help: "Prompt tokens of the prefill measurement.")
    var promptTokens = 512

    @Option(help: "Tokens generated per decode measurement, from an empty cache.")
    var genTokens = 128

    @Option(help: "Sequences decoded together in the aggregate measurement (1: skip it).")
    var parallel = 8

    @Option(help: "Matrix threads, the calling thread included (0: one per core).")
    var threads = 0

    @Option(name: [.customLong("repeat"), .customLong("repeats")],
            help: "Timed repetitions of each measurement (median and spread reported).")
    var repeats = 5

    @Option(help: "Where the model's weights live: mapped (from the file, pages faulted in on use), memory (the file read into huge-page memory at load), repacked (as memory, and the Q4_K and Q6_K matrices also copied at load into a layout of 16-row groups: faster prefill and decoding, same results; the copies held beside the file, less the Q4_K experts' originals, which are given back) or auto (the most of those that fits in three quarters of the memory this process may use with a third of that kept for caches).")
    var weights = ModelWeights.mapped.rawValue

    @Option(help: "Tokens already in every sequence's cache when prefill and decode are timed, as llama-bench -d (0: an empty cache).")
    var depth = 0

    @Option(help: "--kernels: MiB each measurement streams through (copies of the matrix; larger than the last-level cache).")
    var workingSetMb = 1024

    func validate() throws {
        guard kernels != (model != nil) else {
            throw ValidationError("expected either a model file (sparrow bench MODEL.gguf) or --kernels, not "
                                  + (kernels ? "both" : "neither"))
        }
        guard repeats >= 1 else { throw ValidationError("expected --repeat ≥ 1, found \(repeats)") }
        if kernels {
            guard workingSetMb >= 1 else { throw ValidationError("expected --working-set-mb ≥ 1, found \(workingSetMb)") }
            return
        }
        guard promptTokens >= 1 else { throw ValidationError("expected --prompt-tokens ≥ 1, found \(promptTokens)") }
        guard genTokens >= 1 else { throw ValidationError("expected --gen-tokens ≥ 1, found \(genTokens)") }
        guard parallel >= 1 else { throw ValidationError("expected --parallel ≥ 1, found \(parallel)") }
        guard threads >= 0 else { throw ValidationError("expected --threads ≥ 0 (0: one per core), found \(threads)") }
        guard depth >= 0 else { throw ValidationError("expected --depth ≥ 0, found \(depth)") }
        guard ModelWeights(rawValue: weights) != nil else {
            let names = ModelWeights.allCases.map(\.rawValue)
            throw ValidationError("expected --weights " + names.dropLast().joined(separator: ", ")
                                  + " or \(names.last ?? ""), found '\(weights)'")
        }
    }

    func run() throws {
        guard let model else { return try runKernels() }
        var configuration = ModelBenchmarkConfiguration()
        configuration.promptTokens = promptTokens
        configuration.generatedTokens = genTokens
        configuration.parallel = parallel
        configuration.threads = threads > 0 ? threads : ProcessInfo.processInfo.activeProcessorCount
        configuration.repeats = repeats
        let asked = ModelWeights(rawValue: weights) ?? .mapped
        let (choice, autoLine) = asked.resolved(forFile: model, cacheBytes: nil)
        if let autoLine { StandardError.write("sparrow bench: " + autoLine) }
        configuration.storage = choice.storage
        configuration.repack = choice.repack
        configuration.depth = depth
        let report: ModelBenchmarkReport
        do {
            report = try ModelBenchmark.run(path: model, configuration) { StandardError.write("sparrow bench: \($0)") }
        } catch {
            // A file Sparrow cannot load (bad, or an architecture not implemented yet) is bad input: exit 2.
            StandardError.write("sparrow: \(error)")
            throw ExitCode(2)
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(BenchTable.text(report))
        }
    }

    private func runKernels() throws {
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
            "CPU: \(report.cpu.vendor ?? "vendor unknown")\(report.cpu.family.map { " family \($0)" } ?? ""), "
                + "avx2 \(report.cpu.avx2), fma \(report.cpu.fma), f16c \(report.cpu.f16c), "
                + "avx512 \(report.cpu.avx512 == true); "
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
