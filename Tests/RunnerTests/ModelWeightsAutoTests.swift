import Foundation
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
        (3 * gb, 18 * gb, nil, true, ModelWeights.repacked),  // 3 GB twice (6) + 6 GB reserve ≤ 18
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

    @Test("repacked is judged by what a repacked load holds at its peak, when the file's records give it", arguments: [
        // (file, repacked peak, limit) → choice, with a third of the limit kept for caches
        (7 * gb, 9 * gb as Int?, 18 * gb, ModelWeights.repacked),  // 9 + 6 ≤ 18, where two copies (14) would not fit
        (7 * gb, 13 * gb as Int?, 18 * gb, .memory),               // 13 + 6 > 18
        (7 * gb, nil as Int?, 18 * gb, .memory),                   // unknown: two copies, 14 + 6 > 18
    ] as [(Int, Int?, Int, ModelWeights)])
    func choiceByFootprint(file: Int, peak: Int?, limit: Int, expected: ModelWeights) {
        #expect(ModelWeights.auto.resolved(fileBytes: file, repackedPeakBytes: peak, memoryLimit: limit, cacheBytes: nil,
                                           repackAvailable: true) == expected)
        #expect(ModelWeights.auto.resolved(fileBytes: file, repackedPeakBytes: peak, memoryLimit: limit, cacheBytes: nil,
                                           repackAvailable: false) != .repacked)
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

    @Test("a file that cannot be read resolves to mapped; other choices get no line")
    func missingFile() {
        let (choice, line) = ModelWeights.auto.resolved(forFile: "/nonexistent/model.gguf", cacheBytes: nil)
        #expect(choice == .mapped && line?.hasPrefix("model.weights: auto: mapped (the file is 0.0 GB;") == true)
        #expect(ModelWeights.memory.resolved(forFile: "/nonexistent/model.gguf", cacheBytes: nil) == (.memory, nil))
    }

    @Test("auto sizes the file a symbolic link points to, not the link")
    func symbolicLink() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-auto-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = folder.appendingPathComponent("blob")
        #expect(FileManager.default.createFile(atPath: model.path, contents: nil))
        let handle = try FileHandle(forWritingTo: model)
        try handle.truncate(atOffset: 1 << 40)  // sparse: 1 TB, larger than this machine's memory
        try handle.close()
        let link = folder.appendingPathComponent("model.gguf")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: model)
        #expect(ModelWeights.auto.resolved(forFile: link.path, cacheBytes: nil).choice == .mapped)
    }

    @Test("the line on standard error names the choice, the file's size, the limit and the reserve")
    func choiceLine() {
        let line = ModelWeights.autoChoiceLine(.memory, fileBytes: 7 * Self.gb, memoryLimit: 18 * Self.gb,
                                               cacheBytes: nil, repackAvailable: false)
        #expect(line == "model.weights: auto: memory (the file is 7.0 GB; weights in memory may take 18.0 GB, a third "
                    + "of that, 6.0 GB, kept for caches; this CPU has no repacked kernels (AVX2 or AVX-512 VNNI))")
        let budgeted = ModelWeights.autoChoiceLine(.repacked, fileBytes: Self.gb, memoryLimit: 18 * Self.gb,
                                                   cacheBytes: 2 * Self.gb, repackAvailable: true)
        #expect(budgeted.hasSuffix("may take 18.0 GB, model.memory 2.0 GB)"))
    }
}
