public import Foundation

/// `results.jsonl`: one JSON line per finished task, appended and fsync'd as each task ends, so a killed run loses
/// at most the task in progress. Reading drops a torn last line (one without its newline): that task is redone.
public actor Journal {
    public let url: URL
    private let handle: FileHandle

    /// Entries already in the file (the latest per id), in file order.
    public private(set) var entries: [JournalEntry]

    /// Opens the journal in `directory`. An existing journal is an error unless `resume`; when resuming, its torn
    /// last line is cut off and its entries are read.
    public init(directory: URL, resume: Bool) throws(RunnerError) {
        url = directory.appendingPathComponent("results.jsonl")
        let exists = FileManager.default.fileExists(atPath: url.path)
        if exists, !resume { throw .journalExists(path: url.path) }
        var entries: [JournalEntry] = []
        if exists {
            let data: Data
            do { data = try Data(contentsOf: url) } catch {
                throw .output(path: url.path, reason: error.localizedDescription)
            }
            let (parsed, validLength) = try Self.parse(data, path: url.path)
            entries = parsed
            if validLength < data.count, let truncate = FileHandle(forWritingAtPath: url.path) {
                try? truncate.truncate(atOffset: UInt64(validLength))
                try? truncate.close()
            }
        } else if !FileManager.default.createFile(atPath: url.path, contents: nil) {
            throw .output(path: url.path, reason: "could not create the file")
        }
        guard let handle = FileHandle(forWritingAtPath: url.path) else {
            throw .output(path: url.path, reason: "could not open it for writing")
        }
        _ = try? handle.seekToEnd()
        self.handle = handle
        self.entries = entries
    }

    /// Reads journal bytes: complete lines only; a line that does not decode (other than a torn last one) is an
    /// error naming its line number.
    static func parse(_ data: Data, path: String) throws(RunnerError) -> (entries: [JournalEntry], validLength: Int) {
        let decoder = JSONDecoder()
        var entries: [JournalEntry] = []
        var validLength = 0
        var lineNumber = 0
        var start = data.startIndex
        while let newline = data[start...].firstIndex(of: UInt8(ascii: "\n")) {
            lineNumber += 1
            let line = data[start..<newline]
            if !line.isEmpty {
                do {
                    entries.append(try decoder.decode(JournalEntry.self, from: line))
                } catch {
                    throw .output(path: path, reason: "line \(lineNumber) is not a journal entry (\(error)); move the file away to start over")
                }
            }
            start = newline + 1
            validLength = start - data.startIndex
        }
        return (entries, validLength)
    }

    /// Appends one entry and forces it to disk.
    public func append(_ entry: JournalEntry) throws(RunnerError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            var line = try encoder.encode(entry)
            line.append(UInt8(ascii: "\n"))
            try handle.write(contentsOf: line)
            try handle.synchronize()
        } catch {
            throw .output(path: url.path, reason: error.localizedDescription)
        }
        entries.append(entry)
    }

    /// The latest entry per task id.
    public func latestEntries() -> [String: JournalEntry] {
        var latest: [String: JournalEntry] = [:]
        for entry in entries { latest[entry.id] = entry }
        return latest
    }

    public func close() {
        try? handle.close()
    }
}
