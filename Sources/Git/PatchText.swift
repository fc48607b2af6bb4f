internal import Foundation

/// Repairs of git-format patch text that libgit2 1.5's parser wrongly rejects.
enum PatchText {
    /// A patch with a `-- ` line after every file header that ends at its `index` line.
    ///
    /// git prints an added or deleted empty file as a header alone (`diff --git`, `new file mode`,
    /// `index 0000000..e69de29`) with no `---`/`+++` lines or hunks. libgit2 before 1.9 rejects that header
    /// ("invalid patch header", libgit2 issues #5713 and #6778) unless a `-- ` line follows, the form it
    /// accepts from `git format-patch` mails (libgit2 PR #5248). Inserting that line changes nothing else: the
    /// parser skips to the next `diff --git`.
    static func repairingEmptyFileHeaders(_ patch: Data) -> Data {
        let lines = patch.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        let diffHeader = Array("diff --git ".utf8), index = Array("index ".utf8)
        var output = Data()
        output.reserveCapacity(patch.count + 64)
        var inHeader = false
        var previousWasIndex = false
        for (number, line) in lines.enumerated() {
            let isLast = number == lines.count - 1
            let startsFile = line.starts(with: diffHeader)
            // The header ended at its index line when a new file starts, or the text ends, right after it.
            if inHeader, previousWasIndex, startsFile || (isLast && line.isEmpty) {
                output.append(contentsOf: Array("-- \n".utf8))
            }
            if startsFile {
                inHeader = true
            } else if line.starts(with: Array("--- ".utf8)) || line.starts(with: Array("GIT binary patch".utf8))
                || line.starts(with: Array("Binary files ".utf8)) || line.starts(with: Array("@@ ".utf8))
            {
                inHeader = false
            }
            previousWasIndex = inHeader && line.starts(with: index)
            output.append(contentsOf: line)
            if !isLast { output.append(UInt8(ascii: "\n")) }
        }
        if inHeader, previousWasIndex { output.append(contentsOf: Array("\n-- \n".utf8)) }
        return output
    }

    /// A patch (or patch mail) in which each file section that adds a path and is directly followed by a section
    /// deleting the same path is moved after it.
    ///
    /// libgit2 prints a type change (file <-> symlink) as "new file" then "deleted file" for one path; git prints
    /// the deletion first, and `git apply`/`git am` refuse the other order ("already exists"). Section bodies are
    /// moved whole; a mail's trailing `--` signature stays at the end.
    static func deletingBeforeAdding(_ text: Data) -> Data {
        var lines = text.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { Array($0) }
        let diffHeader = Array("diff --git ".utf8)
        // The signature: from the last "--" line, when what follows is not patch content.
        var end = lines.count
        if let separator = lines.lastIndex(of: Array("--".utf8)),
            !lines[(separator + 1)...].contains(where: { $0.starts(with: diffHeader) })
        {
            end = separator
        }
        let starts = lines[..<end].indices.filter { lines[$0].starts(with: diffHeader) }
        guard starts.count > 1 else { return text }
        var sections = zip(starts, starts.dropFirst() + [end]).map { Array(lines[$0..<$1]) }
        func has(_ section: [[UInt8]], _ prefix: String) -> Bool {
            section.prefix(4).contains { $0.starts(with: Array(prefix.utf8)) }
        }
        var index = 0
        var changed = false
        while index + 1 < sections.count {
            if sections[index][0] == sections[index + 1][0], has(sections[index], "new file mode "),
                has(sections[index + 1], "deleted file mode ")
            {
                sections.swapAt(index, index + 1)
                changed = true
                index += 1
            }
            index += 1
        }
        guard changed, let first = starts.first else { return text }
        lines.replaceSubrange(first..<end, with: sections.flatMap { $0 })
        var output = Data()
        for (number, line) in lines.enumerated() {
            output.append(contentsOf: line)
            if number < lines.count - 1 { output.append(UInt8(ascii: "\n")) }
        }
        return output
    }
}
