import Foundation
@testable import Jobs
import Testing

@Suite struct ValidSpecTests {
    private func load(_ text: String) throws -> LoadedSpec {
        try SpecLoader.decode(Array(text.utf8), file: "jobs.yaml", baseDirectory: "/specs")
    }

    @Test func minimalSpecGetsTheDocumentedDefaults() throws {
        let spec = try load("version: 1\nmodel: {path: m.gguf}\ntasks: [{id: r, kind: review}]\n").spec
        #expect(spec.version == 1)
        #expect(spec.baseDirectory == "/specs")
        #expect(spec.repository.value == ".")
        #expect(spec.sandbox == .bwrap)
        #expect(spec.model.context == nil)
        #expect(spec.model.threads == 0)
        #expect(spec.model.parallel == 4)
        #expect(spec.outputs == OutputSettings(directory: "sparrow-out", formats: [.sarif, .junit], failOn: .error))
        let task = try #require(spec.tasks.first)
        #expect(task.generation == GenerationSettings())
        #expect(task.generation.maxTokens == 1024 && task.generation.timeout.seconds == 1800)
        guard case let .review(review) = task.kind else { return #expect(Bool(false)) }
        #expect(review.base.value == .auto)
        #expect(review.head.value == "HEAD")
        #expect(review.paths.map(\.pattern) == ["**"])
        #expect(review.filter == .added && review.contextLines == 3)
    }

    @Test func everyWeightsChoiceIsDecoded() throws {
        for choice in ModelWeights.allCases {
            let spec = try load("version: 1\nmodel: {path: m.gguf, weights: \(choice.rawValue)}\ntasks: [{id: r, kind: review}]\n").spec
            #expect(spec.model.weights == choice)
        }
        #expect(ModelWeights.allCases.map(\.rawValue) == ["mapped", "memory", "repacked", "auto"])
    }

    @Test func everyKeyIsDecodedIntoItsValue() throws {
        let text = """
        version: 1
        model:
          path: ${SPARROW_MODEL}/m.gguf
          context: 8192
          threads: 2
          parallel: 6
          memory: 1.5GiB
          weights: memory
        repository: ../repo
        defaults: &base
          max_tokens: 700
          temperature: 0.5
          top_p: 0.9
          top_k: 40
          seed: 42
          stop: ["</done>"]
          timeout: 1h30m
        sandbox: none
        tasks:
          - id: review-1
            kind: review
            base: origin/main
            head: feature
            paths: ["Sources/**", "*.swift"]
            exclude: ["**/Generated/**"]
            filter: diff_context
            context_lines: 7
            max_tokens: 300
          - id: patch.2
            kind: patch
            at: v1.2
            instruction: |
              Fix it.
            files: [Sources/A.swift]
            setup: swift build
            verify: swift test
            attempts: 5
          - id: tests_3
            kind: tests
            base: auto
            head: abc1234
            test_dir: Tests/X
            setup: make deps
            run: make check
            repeats: 4
            must_fail_on_base: true
        outputs:
          dir: out
          formats: [gitlab, rdjsonl]
          fail_on: warning
        """
        let loaded = try load(text)
        let spec = loaded.spec
        #expect(loaded.warnings.map(\.message) == ["sandbox: none: model-written code will run without isolation"])
        #expect(spec.model.source == .file(path: Located("${SPARROW_MODEL}/m.gguf", at: SourceLocation(line: 3, column: 9))))
        #expect(spec.model.context == 8192 && spec.model.threads == 2 && spec.model.parallel == 6)
        #expect(spec.model.memory == ByteCount(bytes: 1_610_612_736))
        #expect(spec.model.weights == .memory)
        #expect(spec.repository.value == "../repo")
        #expect(spec.sandbox == .none)
        #expect(spec.taskSummary == "3 tasks (1 review, 1 patch, 1 tests)")
        #expect(spec.outputs == OutputSettings(directory: "out", formats: [.gitlab, .rdjsonl], failOn: .warning))

        let review = spec.tasks[0]
        #expect(review.id == "review-1")
        #expect(review.location == SourceLocation(line: 20, column: 9))
        #expect(review.generation.maxTokens == 300)
        #expect(review.generation.temperature == 0.5 && review.generation.topP == 0.9 && review.generation.topK == 40)
        #expect(review.generation.seed == 42 && review.generation.stop == ["</done>"])
        #expect(review.generation.timeout.seconds == 5400)
        guard case let .review(r) = review.kind else { return #expect(Bool(false)) }
        #expect(r.base.value == .revision("origin/main") && r.head.value == "feature")
        #expect(r.paths.map(\.pattern) == ["Sources/**", "*.swift"] && r.exclude.map(\.pattern) == ["**/Generated/**"])
        #expect(r.filter == .diffContext && r.contextLines == 7)

        #expect(spec.tasks[1].generation.maxTokens == 700)
        guard case let .patch(p) = spec.tasks[1].kind else { return #expect(Bool(false)) }
        #expect(p.at.value == "v1.2" && p.instruction == "Fix it.\n" && p.files == ["Sources/A.swift"])
        #expect(p.setup == "swift build" && p.verify == "swift test" && p.attempts == 5)

        guard case let .tests(t) = spec.tasks[2].kind else { return #expect(Bool(false)) }
        #expect(t.base.value == .auto && t.head.value == "abc1234" && t.testDirectory == "Tests/X")
        #expect(t.setup == "make deps" && t.run == "make check" && t.repeats == 4 && t.mustFailOnBase)
    }

    @Test func serverModelsTakeURLNameKeyVariableAndTimeout() throws {
        let spec = try load("""
        version: 1
        model: {url: "http://127.0.0.1:8000/v1", name: qwen, api_key_env: MY_KEY, timeout: 90s}
        tasks: [{id: r, kind: review}]
        """).spec
        guard case let .server(url, name, key, timeout) = spec.model.source else { return #expect(Bool(false)) }
        #expect(url.value == "http://127.0.0.1:8000/v1" && name == "qwen" && key == "MY_KEY" && timeout.seconds == 90)
    }

    @Test func mergeKeysShareSettingsAndExplicitKeysWin() throws {
        let spec = try load("""
        version: 1
        model: {path: m.gguf}
        x-review: &review {kind: review, base: main, filter: file}
        tasks:
          - {<<: *review, id: a}
          - {<<: *review, id: b, filter: nofilter}
        """).spec
        guard case let .review(a) = spec.tasks[0].kind, case let .review(b) = spec.tasks[1].kind else {
            return #expect(Bool(false))
        }
        #expect(spec.tasks.map(\.id) == ["a", "b"])
        #expect(a.filter == .file && b.filter == .nofilter)
        #expect(b.base.value == .revision("main"))
    }

    @Test func plainNumbersAreTextWhereTextIsExpected() throws {
        let spec = try load("version: 1\nmodel: {path: m.gguf}\ntasks: [{id: 2024, kind: review, head: 1234567}]\n").spec
        #expect(spec.tasks[0].id == "2024")
        guard case let .review(review) = spec.tasks[0].kind else { return #expect(Bool(false)) }
        #expect(review.head.value == "1234567")
    }

    @Test func everyExampleSpecIsValid() throws {
        let folder = Fixtures.repositoryRoot.appendingPathComponent("Pipelines/examples")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }
        #expect(names.count >= 3)
        for name in names {
            let path = folder.appendingPathComponent(name).path
            #expect(throws: Never.self, "\(name)") { try SpecLoader.load(path: path) }
        }
    }

    @Test func loadingReportsMissingFilesAndFolders() {
        #expect(throws: SpecError.self) { try SpecLoader.load(path: "/nonexistent/jobs.yaml") }
        do {
            _ = try SpecLoader.load(path: "/tmp")
        } catch {
            #expect(error.description == "/tmp:1:1: error: cannot read the spec: it is a folder, expected a YAML file")
        }
    }
}
