import Foundation
import Git
import Testing
import TestSupport

/// The diff benchmark's Sparrow half. It runs only from `Benchmarks/git/run`, which builds the history and sets
/// `SPARROW_GIT_BENCH_REPO` (the repository) and `SPARROW_GIT_BENCH_OUT` (where to write the timings as JSON).
/// It times `Repository.diff` over consecutive commit pairs, then checks every pair's lines against the git CLI,
/// so the numbers reported are for correct diffs. No time limit is asserted.
@Suite("Diff benchmark (Benchmarks/git/run)")
struct DiffBenchmark {
    static let environment = ProcessInfo.processInfo.environment

    @Test(
        "100 consecutive commit pairs, timed; every pair equal to git diff",
        .enabled(if: environment["SPARROW_GIT_BENCH_REPO"] != nil)
    )
    func consecutivePairs() throws {
        let path = try #require(Self.environment["SPARROW_GIT_BENCH_REPO"])
        let pairsWanted = Int(Self.environment["SPARROW_GIT_BENCH_PAIRS"] ?? "") ?? 100
        let repetitions = Int(Self.environment["SPARROW_GIT_BENCH_REPEAT"] ?? "") ?? 5
        let url = URL(fileURLWithPath: path)
        let list = try GitRepository.runGit(["rev-list", "--reverse", "main"], in: url)
        let commits = String(decoding: list.output, as: UTF8.self).split(separator: "\n").map(String.init)
        try #require(commits.count > pairsWanted)
        let pairs = (commits.count - pairsWanted..<commits.count).map { (commits[$0 - 1], commits[$0]) }

        let repository = try Repository(at: url)
        var seconds: [Double] = []
        var diffs: [Diff] = []
        for _ in 0..<repetitions {
            let start = DispatchTime.now().uptimeNanoseconds
            diffs = try pairs.map { try repository.diff(from: $0.0, to: $0.1) }
            seconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        let files = diffs.reduce(0) { $0 + $1.files.count }
        let lines = diffs.reduce(0) { total, diff in total + diff.files.reduce(0) { $0 + $1.hunks.flatMap(\.lines).count } }

        var mismatches = 0
        for (pair, ours) in zip(pairs, diffs) {
            let reference = try GitCLIDiff.reference(in: url, base: pair.0, head: pair.1, context: 3)
            let mine = ours.files.map(DiffTests.converted)
            let byKey = Dictionary(mine.map { (DiffTests.key($0), $0) }, uniquingKeysWith: { a, _ in a })
            if mine.count != reference.count || reference.contains(where: { byKey[DiffTests.key($0)] != $0 }) {
                mismatches += 1
            }
        }
        #expect(mismatches == 0, "\(mismatches) of \(pairs.count) pairs differ from git diff")

        if let out = Self.environment["SPARROW_GIT_BENCH_OUT"] {
            let sorted = seconds.sorted()
            let report: [String: Any] = [
                "pairs": pairs.count, "repetitions": repetitions, "seconds": seconds,
                "median_seconds": sorted[sorted.count / 2], "min_seconds": sorted[0],
                "max_seconds": sorted[sorted.count - 1], "files": files, "lines": lines,
                "mismatching_pairs": mismatches,
            ]
            let data = try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys, .prettyPrinted])
            try data.write(to: URL(fileURLWithPath: out))
        }
    }
}
