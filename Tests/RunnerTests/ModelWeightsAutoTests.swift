import GGUF
import Jobs
@testable import Runner
import Testing

/// `model.weights: auto`: the most a machine holds with room to spare, from the file's size, the memory limit and
/// the cache reserve.
@Suite struct ModelWeightsAutoTests {
    static let gb = 1_000_000_000

    @Test("auto picks repacked, memory or mapped by what fits beside a third of the limit", arguments: [
        // (file, limit, model.memory, repacked kernels) → choice
        (3 * gb, 18 * gb, nil, true, ModelWeights.repacked),  // 6 GB twice + 6 GB reserve ≤ 18
        (6 * gb, 18 * gb, nil, true, .repacked),              // 12 + 6 = 18: exactly fits
        (7 * gb, 18 * gb, nil, true, .memory),                // 14 + 6 > 18, 7 + 6 ≤ 18
        (12 * gb, 18 * gb, nil, true, .memory),               // 12 + 6 = 18
        (13 * gb, 18 * gb, nil, true, .mapped),               // 13 + 6 > 18
        (3 * gb, 18 * gb, nil, false, .memory),               // no repacked kernels: one copy at most
        (3 * gb, 18 * gb, 12 * gb, true, .repacked),          // model.memory replaces the third: 6 + 12 ≤ 18
        (4 * gb, 18 * gb, 12 * gb, true, .memory),            // 8 + 12 > 18, 4 + 12 ≤ 18
        (7 * gb, 18 * gb, 12 * gb, true, .mapped),            // 7 + 12 > 18
        (1 * gb, 18 * gb, 20 * gb, true, .mapped),            // a budget beyond the limit leaves no room
        (0, 18 * gb, nil, true, .mapped),                     // size unknown (0): mapped, loading says why
        (Int.max / 2 + 1, Int.max, nil, true, .memory),       // twice the size overflows: not repacked; once fits
    ] as [(Int, Int, Int?, Bool, ModelWeights)])
    func choice(file: Int, limit: Int, memory: Int?, kernels: Bool, expected: ModelWeights) {
        #expect(ModelWeights.auto.resolved(fileBytes: file, memoryLimit: limit, cacheBytes: memory,
                                           repackAvailable: kernels) == expected)
    }

    @Test("every other choice resolves to itself, whatever fits")
    func otherChoicesStay() {
        for choice in ModelWeights.allCases where choice != .auto {
            #expect(choice.resolved(fileBytes: 100 * Self.gb, memoryLimit: Self.gb, cacheBytes: nil,
                                    repackAvailable: true) == choice)
            #expect(choice.resolved(fileBytes: 1, memoryLimit: 100 * Self.gb, cacheBytes: nil,
                                    repackAvailable: true) == choice)
        }
    }

    @Test("unresolved, auto holds nothing in memory (resolve it before loading)")
    func unresolvedAutoReadsAsMapped() {
        #expect(ModelWeights.auto.storage == .mapped && !ModelWeights.auto.repack && ModelWeights.auto.heldCopies == 0)
    }

    @Test("a file that cannot be read resolves to mapped")
    func missingFile() {
        #expect(ModelWeights.auto.resolved(forFile: "/nonexistent/model.gguf", cacheBytes: nil) == .mapped)
    }

    @Test("the line on standard error names the choice, the file's size and the reserve")
    func choiceLine() {
        let line = ModelWeights.autoChoiceLine(.memory, path: "/nonexistent/model.gguf", cacheBytes: 2 * Self.gb)
        #expect(line.hasPrefix("model.weights: auto: memory (the file is 0.0 GB; weights in memory may take "))
        #expect(line.contains("model.memory 2.0 GB"))
    }
}
