import GGUF
import Testing
@testable import Kernels

@Suite("Kernel benchmark report")
struct KernelBenchmarkTests {
    @Test("one measurement per type and thread count, each beside the triad at the same thread count")
    func reportShape() throws {
        var configuration = KernelBenchmarkConfiguration()
        configuration.rows = 16
        configuration.columns = 512
        configuration.types = [.q4_K, .q4_1]
        configuration.threadCounts = [1, 2]
        configuration.repeats = 3
        configuration.workingSetBytes = 1 << 20
        let report = try KernelBenchmark.run(configuration)
        #expect(report.triad.map(\.threads) == [1, 2])
        // Every thread count's triad pools the runs interleaved with each type.
        #expect(report.triad.map(\.runs.count) == [6, 6])
        #expect(report.kernels.map(\.type) == ["Q4_K", "Q4_K", "Q4_1", "Q4_1"])
        #expect(report.kernels.map(\.threads) == [1, 2, 1, 2])
        for kernel in report.kernels {
            #expect(kernel.runs.count == 3)
            #expect(kernel.gbPerSecond == KernelBenchmark.median(kernel.runs))
            #expect(kernel.fractionOfTriad == kernel.gbPerSecond / kernel.triadGBPerSecond)
            let type = try #require(configuration.types.first { $0.name == kernel.type })
            #expect(kernel.level == KernelLevel.best(for: type).rawValue)
        }
    }

    @Test("the median of an odd and an even number of runs")
    func median() {
        #expect(KernelBenchmark.median([5, 1, 3]) == 3)
        #expect(KernelBenchmark.median([4, 1, 3, 2]) == 2.5)
        #expect(KernelBenchmark.median([]) == 0)
    }
}
