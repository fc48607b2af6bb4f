import Foundation
import GGUF
import Engine
import Kernels
import Git
public import Jobs

/// `sparrow validate --deep`: beyond the spec itself, resolve every task's revisions and read the model file's
/// header (context length; file size and cache budget against the machine's memory). Touches no network.
public enum DeepValidation {
    /// Problems found, as messages; empty when the spec can run here.
    public static func problems(_ loaded: LoadedSpec, environment: [String: String], workingDirectory: String) -> [String] {
        let options = RunOptions(specPath: loaded.spec.file, environment: environment, workingDirectory: workingDirectory)
        let resolution = SpecResolution(loaded: loaded, options: options)
        var problems: [String] = []
        do {
            let path = try resolution.repositoryPath()
            let repository = try Repository(at: URL(fileURLWithPath: path))
            let revisions = TaskRevisions(repository: repository, environment: environment)
            for task in loaded.spec.tasks {
                do { _ = try revisions.resolve(task) } catch { problems.append(error.description) }
            }
        } catch {
            problems.append("repository: \(error)")
        }
        do {
            let model = try resolution.model()
            if case let .file(path) = model.source {
                do {
                    let file = try GGUFFile(contentsOf: URL(fileURLWithPath: path))
                    let architecture = (try? file.metadata.string("general.architecture")) ?? "?"
                    let trained = try? file.metadata.integer("\(architecture).context_length")
                    if let context = loaded.spec.model.context, let trained, context > trained {
                        problems.append("model.context \(context) is larger than the model's trained context \(trained) (\(path))")
                    }
                    let limit = ResidentMemory.limitBytes()  // RAM, or the container's cgroup limit
                    let weightsLimit = ResidentMemory.weightsInMemoryLimitBytes()
                    let cacheBytes = loaded.spec.model.memory.map { Int($0.bytes) }
                    // `auto` checked as what it chooses on this machine for this file.
                    let footprint = RepackedFootprint(file: file)
                    let weights = loaded.spec.model.weights.resolved(
                        fileBytes: file.fileSize, repackedPeakBytes: footprint.peakBytes, memoryLimit: weightsLimit,
                        cacheBytes: cacheBytes, repackAvailable: WeightRepacker.isAvailable)
                    // Repacked: what the load holds at its peak, from the file's records (`RepackedFootprint`: the
                    // copies, less the Q4_K experts' originals given back); the engine later counts exact bytes.
                    let copies = weights.heldCopies
                    let held = copies > 1 ? footprint.peakBytes : file.fileSize * copies
                    let budget = cacheBytes ?? LocalEngine.defaultMemoryBudget(heldWeights: held)
                    if held > weightsLimit {
                        let times = copies > 1 ? " with its repacked copies (\(held >> 20) MiB)" : ""
                        problems.append("model.weights: \(weights.rawValue): the model (\(file.fileSize >> 20) MiB) held\(times) in memory is more than three quarters of the memory this process may use (\(limit >> 20) MiB); use model.weights: mapped")
                    } else if max(held, file.fileSize) + budget > limit {
                        let source = loaded.spec.model.memory == nil ? "the default cache budget" : "model.memory"
                        let times = copies > 1 ? ", \(held >> 20) MiB with its repacked copies" : ""
                        problems.append("the model (\(file.fileSize >> 20) MiB\(times)) plus \(source) (\(budget >> 20) MiB) exceed the memory this process may use (\(limit >> 20) MiB: RAM or its cgroup limit)")
                    }
                } catch {
                    problems.append("model.path: \(path): \(error)")
                }
            }
        } catch {
            problems.append("\(error)")
        }
        return problems
    }
}
