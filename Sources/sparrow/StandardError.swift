import Foundation

/// Messages, warnings and progress go to standard error; standard output is for results.
enum StandardError {
    static func write(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
