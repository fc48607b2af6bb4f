#!/usr/bin/env python3
"""Writes a deterministic git history for the diff benchmark as a `git fast-import` stream on stdout.

Usage: make_history.py [COMMITS] | git fast-import --quiet

About 200 source-like files of 50-400 lines; each commit edits 1-6 files (line replacements, insertions and
deletions in a few places), and now and then adds, deletes or renames a file. Seeded, so every run writes the
same commits.
"""
import random
import sys


def main() -> None:
    commits = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    rng = random.Random(20261129)
    words = ["let", "var", "func", "return", "if", "else", "for", "in", "guard", "self", "value", "count",
             "index", "buffer", "token", "parse", "write", "read", "error", "result", "+", "-", "==", "{", "}"]

    def line() -> bytes:
        indent = "    " * rng.randint(0, 3)
        return (indent + " ".join(rng.choice(words) for _ in range(rng.randint(2, 9))) + "\n").encode()

    files = {f"Sources/M{n % 12}/File{n}.swift": [line() for _ in range(rng.randint(50, 400))] for n in range(200)}
    out = sys.stdout.buffer
    next_file = 200
    for number in range(commits):
        touched = rng.sample(sorted(files), rng.randint(1, 6))
        for path in touched:
            body = files[path]
            for _ in range(rng.randint(1, 4)):
                at = rng.randrange(len(body))
                kind = rng.random()
                if kind < 0.5:
                    body[at] = line()
                elif kind < 0.8:
                    body[at:at] = [line() for _ in range(rng.randint(1, 8))]
                elif len(body) > 20:
                    del body[at:at + rng.randint(1, 5)]
        roll = rng.random()
        if roll < 0.03:
            files[f"Sources/New/File{next_file}.swift"] = [line() for _ in range(rng.randint(20, 200))]
            next_file += 1
        elif roll < 0.05 and len(files) > 50:
            del files[rng.choice(sorted(files))]
        elif roll < 0.07:
            old = rng.choice(sorted(files))
            files[f"Sources/Renamed/File{next_file}.swift"] = files.pop(old)
            next_file += 1
        message = f"Commit {number}\n".encode()
        when = 1_700_000_000 + 60 * number
        out.write(b"commit refs/heads/main\n")
        out.write(f"author Bench <bench@example.com> {when} +0000\n".encode())
        out.write(f"committer Bench <bench@example.com> {when} +0000\n".encode())
        out.write(b"data %d\n%s\n" % (len(message), message))
        out.write(b"deleteall\n")
        for path in sorted(files):
            content = b"".join(files[path])
            out.write(f"M 100644 inline {path}\n".encode())
            out.write(b"data %d\n%s\n" % (len(content), content))
        out.write(b"\n")


if __name__ == "__main__":
    main()
