import Foundation
import TestSupport
import Testing

/// Pipelines/github: the composite action and the example workflows, checked by actionlint, zizmor (offline) and
/// check-jsonschema's GitHub schemas. Each check also runs on a deliberately broken copy, which must be rejected,
/// so a validator that silently accepts everything cannot make these tests pass.
@Suite("GitHub Actions")
struct GitHubActionsTests {
    static let actionPath = "Pipelines/github/action.yml"
    static let workflowsFolder = "Pipelines/github/workflows"
    static let zizmorConfig = "Pipelines/github/zizmor.yml"
    /// How the example workflows name Sparrow's action (the form users copy).
    static let actionReference = "sparrow-ci/sparrow/Pipelines/github@v0.1.0"

    static func workflows() throws -> [URL] { try Validators.files(in: workflowsFolder, extensions: [".yml", ".yaml"]) }

    @Test("the example workflows cover review, the sharded nightly batch, test writing and the release")
    func workflowSet() throws {
        let names = Set(try Self.workflows().map(\.lastPathComponent))
        for expected in ["pull-request-review.yml", "nightly-patches.yml", "tests-on-push.yml", "release.yml"] {
            #expect(names.contains(expected), "missing \(Self.workflowsFolder)/\(expected); found \(names.sorted())")
        }
    }

    @Test("actionlint accepts every workflow")
    func actionlint() throws {
        let files = try Self.workflows()
        let result = try Validators.run(.actionlint, files.map(\.path))
        #expect(result.exitCode == 0, "actionlint rejected a workflow:\n\(Validators.transcript(result))")
    }

    /// actionlint checks a local action's inputs against its action.yml. The workflows name the action remotely,
    /// so a copy of each, pointing at `./Pipelines/github` in a scratch repository beside a copy of action.yml,
    /// lets actionlint check every `with:` key and required input against the real action.
    @Test("every input the workflows pass exists in action.yml (actionlint on local copies)")
    func workflowInputsMatchTheAction() throws {
        let scratch = try TemporaryDirectory(prefix: "sparrow-actionlint")
        defer { scratch.remove() }
        let copies = try localCopies(in: scratch)
        #expect(copies.count == (try Self.workflows()).count)
        let result = try Validators.run(.actionlint, copies.map(\.path), currentDirectory: scratch.url)
        #expect(result.exitCode == 0, "actionlint found the workflows and action.yml inconsistent:\n\(Validators.transcript(result))")

        // Negative control: an input the action does not declare must be reported.
        let broken = try scratch.write(
            try String(contentsOf: copies[0], encoding: .utf8).replacingOccurrences(of: "spec:", with: "spek:"),
            to: ".github/workflows/broken.yml")
        let rejected = try Validators.run(.actionlint, [broken.path], currentDirectory: scratch.url)
        #expect(rejected.exitCode != 0 && rejected.standardOutput.contains("spek"),
                "actionlint accepted an undeclared input:\n\(Validators.transcript(rejected))")
    }

    @Test("zizmor --offline finds nothing in the action and the workflows")
    func zizmor() throws {
        let config = try Validators.file(Self.zizmorConfig)
        let files = try [Validators.file(Self.actionPath)] + Self.workflows()
        let result = try Validators.run(.zizmor, ["--offline", "--config", config.path] + files.map(\.path))
        #expect(result.exitCode == 0, "zizmor reported findings:\n\(Validators.transcript(result))")

        // Negative control: a third-party action by tag, a token persisted by checkout, and an expression
        // expanded straight into a shell script.
        let scratch = try TemporaryDirectory(prefix: "sparrow-zizmor")
        defer { scratch.remove() }
        let broken = try scratch.write(
            """
            name: broken
            on: pull_request
            permissions: {}
            jobs:
              x:
                runs-on: ubuntu-24.04
                permissions: { contents: read }
                steps:
                  - uses: actions/checkout@v4
                  - uses: some-owner/some-action@main
                  - run: echo "${{ github.event.pull_request.title }}"
            """, to: "broken.yml")
        let rejected = try Validators.run(.zizmor, ["--offline", "--config", config.path, broken.path])
        #expect(rejected.exitCode != 0, "zizmor accepted a workflow with known problems:\n\(Validators.transcript(rejected))")
    }

    @Test("action.yml is valid against the vendor.github-actions schema")
    func actionSchema() throws {
        let action = try Validators.file(Self.actionPath)
        let result = try Validators.run(.checkJSONSchema, ["--builtin-schema", "vendor.github-actions", action.path])
        #expect(result.exitCode == 0, "check-jsonschema rejected action.yml:\n\(Validators.transcript(result))")

        let scratch = try TemporaryDirectory(prefix: "sparrow-action-schema")
        defer { scratch.remove() }
        let text = try String(contentsOf: action, encoding: .utf8)
        let broken = try scratch.write(text.replacingOccurrences(of: "using: composite", with: "using: compost"), to: "action.yml")
        let rejected = try Validators.run(.checkJSONSchema, ["--builtin-schema", "vendor.github-actions", broken.path])
        #expect(rejected.exitCode != 0, "the schema accepted `using: compost`:\n\(Validators.transcript(rejected))")
    }

    @Test("the workflows are valid against the vendor.github-workflows schema")
    func workflowSchema() throws {
        let files = try Self.workflows()
        let result = try Validators.run(.checkJSONSchema, ["--builtin-schema", "vendor.github-workflows"] + files.map(\.path))
        #expect(result.exitCode == 0, "check-jsonschema rejected a workflow:\n\(Validators.transcript(result))")

        let scratch = try TemporaryDirectory(prefix: "sparrow-workflow-schema")
        defer { scratch.remove() }
        let text = try String(contentsOf: files[0], encoding: .utf8)
        let broken = try scratch.write(text.replacingOccurrences(of: "runs-on:", with: "runs-onn:"), to: "broken.yml")
        let rejected = try Validators.run(.checkJSONSchema, ["--builtin-schema", "vendor.github-workflows", broken.path])
        #expect(rejected.exitCode != 0, "the schema accepted a job without runs-on:\n\(Validators.transcript(rejected))")
    }

    @Test("the action checks out the full history, uploads SARIF and runs the sandbox-ready container")
    func actionDoesWhatTheIssueAsks() throws {
        let text = try String(contentsOf: try Validators.file(Self.actionPath), encoding: .utf8)
        for needle in [
            "fetch-depth: 0", "github/codeql-action/upload-sarif@", "--security-opt seccomp=unconfined",
            "--security-opt apparmor=unconfined", "kernel.apparmor_restrict_unprivileged_userns=0",
            ":/models:ro", "GITHUB_STEP_SUMMARY",
        ] {
            #expect(text.contains(needle), "action.yml does not contain \(needle)")
        }
    }

    /// Copies of the workflows that use `./Pipelines/github`, in a scratch repository with a copy of action.yml.
    private func localCopies(in scratch: TemporaryDirectory) throws -> [URL] {
        _ = try scratch.write(Data(), to: ".git/HEAD")  // actionlint finds the project root by its .git folder
        _ = try scratch.write(
            try String(contentsOf: try Validators.file(Self.actionPath), encoding: .utf8), to: "Pipelines/github/action.yml")
        var copies: [URL] = []
        for workflow in try Self.workflows() {
            let text = try String(contentsOf: workflow, encoding: .utf8)
                .replacingOccurrences(of: Self.actionReference, with: "./Pipelines/github")
            copies.append(try scratch.write(text, to: ".github/workflows/\(workflow.lastPathComponent)"))
        }
        return copies
    }
}
