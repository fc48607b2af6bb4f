@testable import Jobs
import Testing

@Suite struct ValueSyntaxTests {
    @Test func globsMatchRepositoryPaths() throws {
        #expect(try Glob("Sources/**").matches("Sources/A/B.swift"))
        #expect(try Glob("Sources/**").matches("Sources"))
        #expect(try !Glob("Sources/**").matches("Tests/A.swift"))
        #expect(try Glob("*.swift").matches("deep/down/File.swift"))
        #expect(try !Glob("*.swift").matches("deep/down/File.swiftx"))
        #expect(try Glob("src/**/test_?.py").matches("src/a/b/test_1.py"))
        #expect(try Glob("src/**/test_?.py").matches("src/test_1.py"))
        #expect(try !Glob("src/*.py").matches("src/a/b.py"))
        #expect(try Glob("[a-c]*/x").matches("beta/x"))
        #expect(try !Glob("[!a-c]*/x").matches("beta/x"))
        #expect(try Glob("a\\*b").matches("a*b"))
        #expect(try !Glob("a\\*b").matches("axb"))
    }

    @Test(arguments: ["", "/abs", "a//b", "a/../b", "a**", "[z-a]", "x[", "[]", "end\\"])
    func malformedGlobsAreRejected(pattern: String) {
        #expect(throws: Glob.SyntaxError.self) { try Glob(pattern) }
    }

    @Test func durationsParse() {
        #expect(DurationSpec(parsing: "90s")?.seconds == 90)
        #expect(DurationSpec(parsing: "1h30m")?.seconds == 5400)
        #expect(DurationSpec(parsing: "120")?.seconds == 120)
        #expect(DurationSpec(parsing: "10m")?.description == "10m")
        #expect(DurationSpec(parsing: "3661")?.description == "1h1m1s")
        for bad in ["", "m", "1x", "1h30", "-5", "forever", "99999999999h"] {
            #expect(DurationSpec(parsing: bad) == nil, "\(bad)")
        }
    }

    @Test func byteCountsParse() {
        #expect(ByteCount(parsing: "20GiB")?.bytes == Int64(20) << 30)
        #expect(ByteCount(parsing: "1.5GB")?.bytes == 1_500_000_000)
        #expect(ByteCount(parsing: "512 MiB")?.bytes == Int64(512) << 20)
        #expect(ByteCount(parsing: "4096")?.bytes == 4096)
        for bad in ["", "GiB", "lots", "1e3GiB", "-1MiB", "99999999999TiB"] {
            #expect(ByteCount(parsing: bad) == nil, "\(bad)")
        }
    }

    @Test func suggestionsFindPlausibleTyposOnly() {
        let keys = ["context", "threads", "parallel", "memory"]
        #expect(Suggestions.closest(to: "contxt", in: keys) == "context")
        #expect(Suggestions.closest(to: "paralel", in: keys) == "parallel")
        #expect(Suggestions.closest(to: "Memory", in: keys) == "memory")
        #expect(Suggestions.closest(to: "thraeds", in: keys) == "threads")
        #expect(Suggestions.closest(to: "gpu", in: keys) == nil)
        #expect(Suggestions.editDistance("ab", "ba") == 1)
    }

    @Test func scalarsResolveByYAML12CoreSchema() {
        #expect(ScalarValue(.init(text: "12", style: .plain)) == .integer(12))
        #expect(ScalarValue(.init(text: "12", style: .doubleQuoted)) == .string("12"))
        #expect(ScalarValue(.init(text: "0x1F", style: .plain)) == .integer(31))
        #expect(ScalarValue(.init(text: "yes", style: .plain)) == .string("yes"))
        #expect(ScalarValue(.init(text: "True", style: .plain)) == .bool(true))
        #expect(ScalarValue(.init(text: "~", style: .plain)) == .null)
        #expect(ScalarValue(.init(text: "1.5e3", style: .plain)) == .number(1500))
        #expect(ScalarValue(.init(text: "12", style: .plain, tag: "tag:yaml.org,2002:str")) == .string("12"))
    }
}
