import Foundation
import TestSupport

/// The `sparrow` executable built beside this test bundle (same configuration).
enum SparrowBinary {
    static let url: URL = {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var folder = URL(fileURLWithPath: exe).deletingLastPathComponent()
        // The test runner may sit inside a `.xctest` bundle folder.
        while folder.pathExtension == "xctest" || folder.lastPathComponent == "Contents" || folder.lastPathComponent == "MacOS" {
            folder.deleteLastPathComponent()
        }
        return folder.appendingPathComponent("sparrow")
    }()

    /// Runs `sparrow` with a 30 s watchdog against hangs.
    static func run(_ arguments: [String], in directory: URL? = nil, watchdogSeconds: Double = 30,
                    measureMemory: Bool = false) throws -> ProcessResult {
        try runProcess(url, arguments: arguments, currentDirectory: directory, watchdogSeconds: watchdogSeconds,
                       measureMemory: measureMemory)
    }

    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
}
