public import GGUF

/// How many weight bytes a forward step reads, from the tensors it touches: every dense tensor once per step
/// (however many sequences the step decodes), one embedding row per token, and per MoE layer only the experts
/// the step's tokens routed to — each once, however many tokens share it (DESIGN.md §9, "weight bytes read per
/// generated token").
public struct WeightTraffic: Sendable, Hashable {
    /// Bytes of every tensor read whole once per step (attention, norms, routers, shared experts, output).
    public let denseBytes: Int
    /// Bytes of one token's embedding row (`token_embd`, when a separate output matrix exists).
    public let embeddingRowBytes: Int
    /// Per MoE layer (by block index), the bytes of one expert: its gate, up and down slices.
    public let expertBytes: [Int: Int]
    /// Experts per MoE layer (`<arch>.expert_count`), 0 for dense models.
    public let expertCount: Int
    /// Experts each token uses (`<arch>.expert_used_count`), 0 for dense models.
    public let expertsPerToken: Int

    /// Classifies the tensors of `file` by name (llama.cpp names, REFERENCE.md §2.2): `blk.N.*_exps.*` are routed
    /// experts; `token_embd` is read a row at a time unless it doubles as the output matrix; all others are dense.
    public init(file: GGUFFile) {
        let architecture = file.metadata["general.architecture"]?.stringValue ?? ""
        let experts = (try? file.metadata.optionalInteger("\(architecture).expert_count")) ?? nil
        let used = (try? file.metadata.optionalInteger("\(architecture).expert_used_count")) ?? nil
        let hasOutput = file.tensorInfo(named: "output.weight") != nil
        var dense = 0
        var embeddingRow = 0
        var perExpert: [Int: Int] = [:]
        for tensor in file.tensors {
            let name = tensor.name
            if name == "token_embd.weight" && hasOutput {
                embeddingRow = tensor.rowByteCount
            } else if name.hasPrefix("blk."), name.contains("_exps."), let layer = Self.layer(of: name),
                      let count = tensor.dimensions.last, count > 0
            {
                perExpert[layer, default: 0] += tensor.byteCount / count
            } else {
                dense += tensor.byteCount
            }
        }
        denseBytes = dense
        embeddingRowBytes = embeddingRow
        expertBytes = perExpert
        expertCount = perExpert.isEmpty ? 0 : (experts ?? 0)
        expertsPerToken = perExpert.isEmpty ? 0 : (used ?? 0)
    }

    /// Bytes one step reads for `tokens` tokens whose routing put `distinctExperts[layer]` different experts to
    /// work in each MoE layer.
    public func stepBytes(tokens: Int, distinctExperts: [Int: Int]) -> Int {
        var total = denseBytes + tokens * embeddingRowBytes
        for (layer, bytes) in expertBytes { total += (distinctExperts[layer] ?? 0) * bytes }
        return total
    }

    /// The most a step of `tokens` tokens can read: every token on its own experts (used when the model does not
    /// report its routing).
    public func upperBoundStepBytes(tokens: Int) -> Int {
        let distinct = min(expertCount, tokens * expertsPerToken)
        return stepBytes(tokens: tokens, distinctExperts: expertBytes.mapValues { _ in distinct })
    }

    private static func layer(of name: String) -> Int? {
        let parts = name.split(separator: ".")
        guard parts.count > 2 else { return nil }
        return Int(parts[1])
    }
}
