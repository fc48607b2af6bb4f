public import Foundation

/// The outcome of a child process run by `runProcess`.
public struct ProcessResult: Sendable {
    public var exitCode: Int32
    public var standardOutput: String
    public var standardError: String
    /// True when the watchdog had to kill the process.
    public var timedOut: Bool
    /// Wall-clock seconds the process ran.
    public var seconds: Double
    /// Peak resident memory of the child in KiB (from `wait4`'s rusage), 0 when unknown.
    public var maxResidentKiB: Int
}

/// Runs `executable` with `arguments`, killing it when it runs past `watchdogSeconds` (a guard against hangs, not
/// a timing threshold). Standard input is empty.
public func runProcess(
    _ executable: URL,
    arguments: [String],
    environment: [String: String]? = nil,
    currentDirectory: URL? = nil,
    watchdogSeconds: Double = 30
) throws -> ProcessResult {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    if let environment { process.environment = environment }
    if let currentDirectory { process.currentDirectoryURL = currentDirectory }
    let outFile = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-out-\(UUID().uuidString)")
    let errFile = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-err-\(UUID().uuidString)")
    _ = FileManager.default.createFile(atPath: outFile.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errFile.path, contents: nil)
    defer {
        try? FileManager.default.removeItem(at: outFile)
        try? FileManager.default.removeItem(at: errFile)
    }
    let out = try FileHandle(forWritingTo: outFile)
    let err = try FileHandle(forWritingTo: errFile)
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    let start = Date()
    try process.run()
    let deadline = start.addingTimeInterval(watchdogSeconds)
    var timedOut = false
    while process.isRunning {
        if Date() > deadline {
            timedOut = true
            process.terminate()
            Thread.sleep(forTimeInterval: 0.5)
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            break
        }
        Thread.sleep(forTimeInterval: 0.01)
    }
    process.waitUntilExit()
    let seconds = Date().timeIntervalSince(start)
    try out.close()
    try err.close()
    var usage = rusage()
    getrusage(RUSAGE_CHILDREN.rawValue, &usage)
    return ProcessResult(
        exitCode: process.terminationStatus,
        standardOutput: (try? String(contentsOf: outFile, encoding: .utf8)) ?? "",
        standardError: (try? String(contentsOf: errFile, encoding: .utf8)) ?? "",
        timedOut: timedOut,
        seconds: seconds,
        maxResidentKiB: Int(usage.ru_maxrss)
    )
}
