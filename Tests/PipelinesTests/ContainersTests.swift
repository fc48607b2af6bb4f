import Foundation
import TestSupport
import Testing

/// Containers/: the Containerfile under hadolint (nothing above info) and the Kubernetes manifests under
/// kubernetes-validate --strict, each with a broken copy that must be rejected.
@Suite("Containers")
struct ContainersTests {
    static let containerfile = "Containers/Containerfile"

    @Test("hadolint reports nothing above info on the Containerfile")
    func hadolint() throws {
        let file = try Validators.file(Self.containerfile)
        let result = try Validators.run(.hadolint, ["--failure-threshold", "warning", "--no-color", file.path])
        #expect(result.exitCode == 0, "hadolint found warnings or errors:\n\(Validators.transcript(result))")

        // Negative control: unpinned packages, a `latest` base image and `cd` in RUN are warnings.
        let scratch = try TemporaryDirectory(prefix: "sparrow-hadolint")
        defer { scratch.remove() }
        let broken = try scratch.write(
            """
            FROM debian:latest
            RUN apt-get update && apt-get install -y curl
            RUN cd /tmp && touch x
            """, to: "Containerfile")
        let rejected = try Validators.run(.hadolint, ["--failure-threshold", "warning", "--no-color", broken.path])
        #expect(rejected.exitCode != 0, "hadolint accepted a Containerfile with known warnings:\n\(Validators.transcript(rejected))")
    }

    @Test("the Containerfile has a Swift build stage and a slim, non-root runtime stage without a model in it")
    func containerfileLayout() throws {
        let text = try String(contentsOf: try Validators.file(Self.containerfile), encoding: .utf8)
        let stages = text.split(separator: "\n").filter { $0.hasPrefix("FROM ") }
        #expect(stages.count == 2, "expected two stages (build, runtime), found \(stages)")
        for needle in ["AS build", "AS runtime", "bookworm-slim", "USER 10001", "VOLUME [\"/models\"]", "bubblewrap="] {
            #expect(text.contains(needle), "Containerfile does not contain \(needle)")
        }
        let copies = text.split(separator: "\n").filter { $0.hasPrefix("COPY ") || $0.hasPrefix("ADD ") }
        #expect(!copies.isEmpty, "expected COPY instructions (the sources, the binary)")
        for line in copies {
            #expect(!line.contains(".gguf") && !line.contains("models"), "the image must not get a model: \(line)")
        }
    }

    @Test("kubernetes-validate --strict accepts every manifest")
    func kubernetesValidate() throws {
        let manifests = try Validators.files(in: "Containers/kubernetes", extensions: [".yaml", ".yml"])
        let result = try Validators.run(.kubernetesValidate, ["--strict"] + manifests.map(\.path))
        #expect(result.exitCode == 0, "kubernetes-validate rejected a manifest:\n\(Validators.transcript(result))")
        // Every resource must have been checked against a schema, not skipped as unknown.
        #expect(!result.standardOutput.contains("Couldn't find schema") && !result.standardError.contains("Couldn't find schema"),
                "kubernetes-validate skipped a resource:\n\(Validators.transcript(result))")

        // Negative control: a misspelt field of the pod's security context.
        let scratch = try TemporaryDirectory(prefix: "sparrow-kubernetes")
        defer { scratch.remove() }
        let batch = try Validators.file("Containers/kubernetes/nightly-batch.yaml")
        let text = try String(contentsOf: batch, encoding: .utf8)
        #expect(text.contains("runAsNonRoot:"))
        let broken = try scratch.write(text.replacingOccurrences(of: "runAsNonRoot:", with: "runAsNonRot:"), to: "broken.yaml")
        let rejected = try Validators.run(.kubernetesValidate, ["--strict", broken.path])
        #expect(rejected.exitCode != 0, "kubernetes-validate accepted an unknown field:\n\(Validators.transcript(rejected))")
    }

    @Test("the Indexed Job maps the index to the shard, mounts the model read-only and allows the sandbox")
    func indexedJob() throws {
        let text = try String(contentsOf: try Validators.file("Containers/kubernetes/nightly-batch.yaml"), encoding: .utf8)
        for needle in [
            "completionMode: Indexed", "SPARROW_SHARDS:", "$JOB_COMPLETION_INDEX", "readOnly: true",
            "type: Unconfined", "runAsNonRoot: true",
        ] {
            #expect(text.contains(needle), "nightly-batch.yaml does not contain \(needle)")
        }
        // SPARROW_SHARDS must equal completions, or shards would be lost or run twice.
        let shards = firstValue(of: "SPARROW_SHARDS:", in: text)?.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        let completions = firstValue(of: "completions:", in: text)
        #expect(shards != nil && shards == completions, "SPARROW_SHARDS (\(shards ?? "none")) != completions (\(completions ?? "none"))")
    }

    /// The first value after `key` on a line of `text`, without a trailing comment.
    private func firstValue(of key: String, in text: String) -> String? {
        for line in text.split(separator: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard trimmed.hasPrefix(key) else { continue }
            let value = trimmed.dropFirst(key.count).split(separator: "#", maxSplits: 1).first ?? ""
            return value.trimmingCharacters(in: .whitespaces)
        }
        return nil
    }
}
