import Foundation
import TestSupport
import Testing

/// Pipelines/gitlab and Pipelines/buildkite against check-jsonschema's vendor schemas (from SchemaStore), each
/// with a broken copy that must be rejected.
@Suite("GitLab and Buildkite")
struct GitLabAndOtherCITests {
    @Test("the GitLab template is valid against vendor.gitlab-ci")
    func gitlab() throws {
        let template = try Validators.file("Pipelines/gitlab/sparrow.gitlab-ci.yml")
        try expectSchema("vendor.gitlab-ci", accepts: template, rejectsAfter: ("parallel: 4", "parallel: four"))
    }

    @Test("the GitLab template publishes Code Quality, keeps the SARIF and merges a parallel batch")
    func gitlabJobs() throws {
        let text = try String(contentsOf: try Validators.file("Pipelines/gitlab/sparrow.gitlab-ci.yml"), encoding: .utf8)
        for needle in [
            "codequality: $SPARROW_OUT/gl-code-quality.json", "$SPARROW_OUT/sparrow.sarif", "parallel: 4",
            "sparrow merge", "GIT_DEPTH: \"0\"", "security_opt",
        ] {
            #expect(text.contains(needle), "sparrow.gitlab-ci.yml does not contain \(needle)")
        }
    }

    @Test("the Buildkite pipeline is valid against vendor.buildkite")
    func buildkite() throws {
        let pipeline = try Validators.file("Pipelines/buildkite/pipeline.yml")
        try expectSchema("vendor.buildkite", accepts: pipeline, rejectsAfter: ("parallelism: 4", "parallelism: many"))
    }

    /// Runs check-jsonschema with a built-in schema on `file`, then on a copy with one replacement applied, which
    /// must fail (the replacement must occur in the file).
    private func expectSchema(
        _ schema: String, accepts file: URL, rejectsAfter replacement: (String, String),
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let result = try Validators.run(.checkJSONSchema, ["--builtin-schema", schema, file.path])
        #expect(result.exitCode == 0, "check-jsonschema (\(schema)) rejected \(file.lastPathComponent):\n\(Validators.transcript(result))",
                sourceLocation: sourceLocation)

        let text = try String(contentsOf: file, encoding: .utf8)
        #expect(text.contains(replacement.0), "\(file.lastPathComponent) no longer contains \(replacement.0)",
                sourceLocation: sourceLocation)
        let scratch = try TemporaryDirectory(prefix: "sparrow-ci-schema")
        defer { scratch.remove() }
        let broken = try scratch.write(
            text.replacingOccurrences(of: replacement.0, with: replacement.1), to: file.lastPathComponent)
        let rejected = try Validators.run(.checkJSONSchema, ["--builtin-schema", schema, broken.path])
        #expect(rejected.exitCode != 0, "\(schema) accepted \(replacement.1):\n\(Validators.transcript(rejected))",
                sourceLocation: sourceLocation)
    }
}
