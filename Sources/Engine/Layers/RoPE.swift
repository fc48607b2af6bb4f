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
        // One loop per style: with the pair's indices chosen inside the loop, the compiler kept it scalar (0.4 % of
        // an 8-sequence qwen3moe decode step on the calling thread alone, measured 2026-12-01); the neox loop reads
        // two contiguous halves and vectorises. Each value is the same unfused multiplies and add/subtract either way.
        for head in 0..<heads {
            let x = row + head * headDimension
            switch style {
            case .normal:
                for i in 0..<half {
                    let x0 = x[2 * i], x1 = x[2 * i + 1]
                    x[2 * i] = x0 * c[i] - x1 * s[i]
                    x[2 * i + 1] = x0 * s[i] + x1 * c[i]
                }
            case .neox:
                let y = x + half
                for i in 0..<half {
                    let x0 = x[i], x1 = y[i]
                    x[i] = x0 * c[i] - x1 * s[i]
                    y[i] = x0 * s[i] + x1 * c[i]
                }
            }
        }
    }
}
