import Foundation

/// Rotary position embedding the way llama.cpp applies it (`ggml_compute_forward_rope_f32`, no YaRN scaling):
/// θ_i = pos · base^(−2i/d), built by repeated multiplication in f32 as ggml's rope cache does.
struct RoPE: Sendable {
    /// Which dimensions form a rotated pair.
    enum Style: Sendable {
        /// `LLAMA_ROPE_TYPE_NORM` (llama): adjacent pairs (x[2i], x[2i+1]); llama.cpp's converter permutes the
        /// q/k rows of Hugging Face checkpoints so this equals their rotate_half.
        case normal
        /// `LLAMA_ROPE_TYPE_NEOX` (qwen3, qwen3moe, qwen3next): pairs (x[i], x[i + d/2]) with d = `dimensions`;
        /// qwen3next's partial rotary (d < head size) rotates only the first d of each head.
        case neox
    }

    let style: Style
    /// Rotated dimensions per head (the first `dimensions` of each head; the rest pass through).
    let dimensions: Int
    let base: Float

    /// Writes cos/sin of θ_i for `position` to `cos` and `sin` (`dimensions / 2` each).
    func angles(position: Int, cos c: UnsafeMutablePointer<Float>, sin s: UnsafeMutablePointer<Float>) {
        let half = dimensions / 2
        let scale = powf(base, -2 / Float(dimensions))
        var theta = Float(position)
        for i in 0..<half {
            c[i] = cosf(theta)
            s[i] = sinf(theta)
            theta *= scale
        }
    }

    /// Rotates the first `dimensions` values of each of `heads` heads (`headDimension` apart) in `row`, for one
    /// position whose angles are at `cos`/`sin`.
    func apply(_ row: UnsafeMutablePointer<Float>, heads: Int, headDimension: Int, cos c: UnsafePointer<Float>,
               sin s: UnsafePointer<Float>)
    {
        let half = dimensions / 2
        for head in 0..<heads {
            let x = row + head * headDimension
            for i in 0..<half {
                let (a, b) = style == .normal ? (2 * i, 2 * i + 1) : (i, i + half)
                let x0 = x[a], x1 = x[b]
                x[a] = x0 * c[i] - x1 * s[i]
                x[b] = x0 * s[i] + x1 * c[i]
            }
        }
    }
}
