import Annotations
import Foundation

/// `--baseline OLD.sarif`: the fingerprints of a previous run's findings, which this run does not report again.
enum Baseline {
    static func fingerprints(in path: String) throws(RunnerError) -> Set<String> {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .badInput("--baseline \(path): no such file")
        }
        guard let log = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let runs = log["runs"] as? [[String: Any]]
        else {
            throw .badInput("--baseline \(path): not a SARIF log (expected an object with \"runs\")")
        }
        var fingerprints: Set<String> = []
        for run in runs {
            for result in run["results"] as? [[String: Any]] ?? [] {
                let partial = result["partialFingerprints"] as? [String: Any] ?? [:]
                if let value = partial[SARIFWriter.fingerprintKey] as? String { fingerprints.insert(value) }
            }
        }
        return fingerprints
    }
}
