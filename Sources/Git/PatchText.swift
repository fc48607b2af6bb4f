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
}
