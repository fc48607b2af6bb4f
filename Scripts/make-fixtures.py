#!/usr/bin/env python3
"""Makes the Engine's fidelity fixtures from references no one here wrote.

1. Tiny random models with fixed seeds (torch + transformers from PyPI, eager attention, CPU, f32):
   llama, qwen3 (dense), and qwen3moe in two configs (different head, expert and top-k counts; every layer MoE and
   norm_topk_prob true, the only qwen3moe cases llama.cpp's converter and GGUF express, REFERENCE.md §0). Each is
   saved with a tiny byte-level BPE tokenizer, converted to GGUF F32 by llama.cpp's `convert_hf_to_gguf.py` (+ its
   gguf-py) from the llama-cpp-python sdist, and transformers' logits are saved for fixed token sequences at every
   position, with 16 greedy tokens and their top-2 margins.
2. A tiny qwen3moe with every matrix dimension divisible by 256 (so K-quants apply), converted to F32 and quantized
   by llama.cpp's `llama-quantize` to Q8_0 and Q4_K_M; llama.cpp's own logits on those files (F32 KV cache, flash
   attention off) through Scripts/fixtures/engine-llama-harness.c linked against the same build.
3. SmolLM2-135M-Instruct Q4_1 (Scripts/fetch-models): llama.cpp's greedy 32-token continuations of 3 prompts with
   the top-2 margin of every step.

Usage (after `Scripts/reference-tools --torch` and `Scripts/fetch-models`):
    eval "$(Scripts/reference-tools --print-env)"
    nice "$SPARROW_REF_PYTHON" Scripts/make-fixtures.py [Tests/EngineTests/Fixtures]

Output files (see Tests/EngineTests/Fixtures/README.md): <name>.gguf, <name>.json (config, sequences, greedy
references), <name>.logits.f32 (little-endian f32, sequence by sequence, position by position, vocabulary-wide).
"""
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

SEED = 20261129
SEQUENCES = 3          # token sequences per model
SEQUENCE_LENGTH = 12   # tokens per sequence
GREEDY_TOKENS = 16
SMOLLM_PROMPTS = [
    "The capital of France is",
    "def fibonacci(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n",
    "Continuous integration runs the test suite on every commit because",
]
SMOLLM_TOKENS = 32

# Tiny configs: (name, transformers class, config overrides).
COMMON = dict(rms_norm_eps=1e-6, max_position_embeddings=256, attention_bias=False, attn_implementation="eager")
MODELS = [
    ("llama", "LlamaForCausalLM", "LlamaConfig", dict(
        hidden_size=64, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
        rope_theta=10000.0, tie_word_embeddings=True, rms_norm_eps=1e-5)),
    ("qwen3", "Qwen3ForCausalLM", "Qwen3Config", dict(
        hidden_size=64, intermediate_size=96, num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=1,
        head_dim=32, rope_theta=1000000.0, tie_word_embeddings=False)),
    ("qwen3moe-a", "Qwen3MoeForCausalLM", "Qwen3MoeConfig", dict(
        hidden_size=64, intermediate_size=96, moe_intermediate_size=16, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, head_dim=16, num_experts=6, num_experts_per_tok=2, norm_topk_prob=True,
        decoder_sparse_step=1, mlp_only_layers=[], rope_theta=1000000.0, tie_word_embeddings=False)),
    ("qwen3moe-b", "Qwen3MoeForCausalLM", "Qwen3MoeConfig", dict(
        hidden_size=64, intermediate_size=96, moe_intermediate_size=16, num_hidden_layers=2, num_attention_heads=8,
        num_key_value_heads=2, head_dim=8, num_experts=10, num_experts_per_tok=3, norm_topk_prob=True,
        decoder_sparse_step=1, mlp_only_layers=[], rope_theta=10000000.0, tie_word_embeddings=False)),
]
# The quantized-path model: hidden and expert sizes divisible by 256 (K-quant blocks), one layer, small vocab, tied
# embeddings; its attention output (2 heads of 64, 128 columns) is too narrow for K-quants, so llama-quantize gives it
# a fallback type, which exercises mixed types in one file.
QUANT_MODEL = ("qwen3moe-q", "Qwen3MoeForCausalLM", "Qwen3MoeConfig", dict(
    hidden_size=256, intermediate_size=256, moe_intermediate_size=256, num_hidden_layers=1, num_attention_heads=2,
    num_key_value_heads=1, head_dim=64, num_experts=3, num_experts_per_tok=2, norm_topk_prob=True,
    decoder_sparse_step=1, mlp_only_layers=[], rope_theta=1000000.0, tie_word_embeddings=True))
QUANT_TYPES = ["Q8_0", "Q4_K_M"]


def cache_dir() -> Path:
    return Path(os.environ.get("SPARROW_CACHE") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "sparrow")


def llama_root() -> Path:
    roots = [r for r in sorted((cache_dir() / "reference").glob("llama.cpp-*")) if (r / "build/src/libllama.a").exists()]
    if not roots:
        sys.exit("make-fixtures: no llama.cpp build under $SPARROW_CACHE/reference; run Scripts/reference-tools")
    return roots[-1]


def make_tokenizer(directory: Path):
    """A byte-level BPE tokenizer (GPT-2 style) trained on a fixed text, saved in Hugging Face format."""
    from tokenizers import Tokenizer, models, pre_tokenizers, decoders, trainers
    from transformers import PreTrainedTokenizerFast
    text = ("Sparrow reviews every commit in continuous integration. The model reads the diff, the tests run, "
            "and the findings go to the pull request. def main():\n    return 0\n") * 20
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=288, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator([text], trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>", bos_token="<|endoftext|>")
    fast.save_pretrained(directory)
    return len(fast)


def randomize(model, generator):
    """Weights large enough that logits have clear margins (transformers' 0.02-std init makes every logit a tie)."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=generator))
            elif "embed_tokens" in name or "lm_head" in name:
                p.copy_(torch.randn(p.shape, generator=generator))
            else:
                fan_in = p.shape[-1]
                p.copy_(torch.randn(p.shape, generator=generator) * (1.5 / fan_in ** 0.5))


def build_model(spec, directory: Path, seed: int):
    import transformers
    name, cls_name, cfg_name, overrides = spec
    vocab = make_tokenizer(directory)
    options = dict(COMMON)
    options.update(overrides)
    attn = options.pop("attn_implementation")
    config = getattr(transformers, cfg_name)(vocab_size=vocab, bos_token_id=0, eos_token_id=0, **options)
    config._attn_implementation = attn
    torch.manual_seed(seed)
    model = getattr(transformers, cls_name)(config).to(torch.float32).eval()
    randomize(model, torch.Generator().manual_seed(seed))
    model.save_pretrained(directory, safe_serialization=True)
    return model, vocab


def convert(directory: Path, out: Path, outtype="f32"):
    """llama.cpp's converter; the tiny tokenizer's pre-tokenizer hash is unknown to it, so it is mapped to qwen2
    (the same byte-level split, REFERENCE.md §0), and the llama path is told there is no SentencePiece model (it
    tries one first and would need the sentencepiece package just to find out)."""
    source = llama_root() / "src"
    code = ("import sys, runpy; sys.path.insert(0, %r); sys.path.insert(1, %r);"
            "import conversion.base as b; b.TextModel.get_vocab_base_pre = lambda self, t: 'qwen2';"
            "exec('def nosp(self):\\n    raise FileNotFoundError(\\'no tokenizer.model\\')'); b.TextModel._set_vocab_sentencepiece = nosp;"
            "sys.argv = ['convert_hf_to_gguf.py', %r, '--outtype', %r, '--outfile', %r];"
            "runpy.run_path(%r, run_name='__main__')") % (
        str(source), str(source / "gguf-py"), str(directory), outtype, str(out), str(source / "convert_hf_to_gguf.py"))
    subprocess.run([sys.executable, "-c", code], check=True, stdout=subprocess.DEVNULL)


def sequences(vocab: int, seed: int):
    rng = np.random.default_rng(seed)
    # Ids from 1: 0 is the end-of-text token.
    return [rng.integers(1, vocab, SEQUENCE_LENGTH).tolist() for _ in range(SEQUENCES)]


def top2_margin(row: np.ndarray) -> float:
    top = np.sort(row)[-2:]
    return float(top[1] - top[0])


def transformers_reference(model, seqs):
    logits, greedy = [], []
    with torch.no_grad():
        for seq in seqs:
            out = model(torch.tensor([seq])).logits[0].to(torch.float32).numpy()
            logits.append(out)
            ids, margins, ranges, current = [], [], [], list(seq)
            for _ in range(GREEDY_TOKENS):
                row = model(torch.tensor([current])).logits[0, -1].to(torch.float32).numpy()
                best = int(np.argmax(row))
                ids.append(best)
                margins.append(top2_margin(row))
                ranges.append(float(row.max() - row.min()))
                current.append(best)
            greedy.append({"ids": ids, "margins": margins, "ranges": ranges})
    return np.stack(logits), greedy


def harness(work: Path) -> Path:
    root = llama_root()
    exe = work / "engine-llama-harness"
    b = root / "build"
    subprocess.run(["c++", "-x", "c", "-O1", str(Path(__file__).resolve().parent / "fixtures/engine-llama-harness.c"),
                    "-I", str(root / "src/include"), "-I", str(root / "src/ggml/include"), "-x", "none",
                    str(b / "src/libllama.a"), str(b / "ggml/src/libggml.a"), str(b / "ggml/src/libggml-cpu.a"),
                    str(b / "ggml/src/libggml-base.a"), "-fopenmp", "-lpthread", "-lm", "-ldl", "-o", str(exe)],
                   check=True)
    return exe


def write(out: Path, name: str, meta: dict, logits: np.ndarray):
    (out / f"{name}.logits.f32").write_bytes(logits.astype("<f4").tobytes())
    meta["logits_file"] = f"{name}.logits.f32"
    meta["logits_shape"] = list(logits.shape)
    (out / f"{name}.json").write_text(json.dumps(meta, indent=1) + "\n")


def main():
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "Tests/EngineTests/Fixtures")
    out.mkdir(parents=True, exist_ok=True)
    import transformers
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        exe = harness(work)
        for index, spec in enumerate(MODELS):
            name = spec[0]
            directory = work / name
            model, vocab = build_model(spec, directory, SEED + index)
            convert(directory, out / f"{name}.gguf")
            seqs = sequences(vocab, SEED + 100 + index)
            logits, greedy = transformers_reference(model, seqs)
            write(out, name, {"model": f"{name}.gguf", "reference": f"transformers {transformers.__version__} "
                              f"{spec[1]} (eager, f32), torch {torch.__version__}", "config": spec[3],
                              "sequences": seqs, "greedy": greedy}, logits)
            print(f"{name}: vocab {vocab}, {len(seqs)} sequences")

        name = QUANT_MODEL[0]
        directory = work / name
        _, vocab = build_model(QUANT_MODEL, directory, SEED + 50)
        f32 = work / f"{name}-f32.gguf"
        convert(directory, f32)
        seqs = sequences(vocab, SEED + 150)
        quantize = llama_root() / "build/bin/llama-quantize"
        for qtype in QUANT_TYPES:
            qname = f"{name}-{qtype.lower()}"
            target = out / f"{qname}.gguf"
            subprocess.run([str(quantize), str(f32), str(target), qtype], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            rows = []
            for seq in seqs:
                result = subprocess.run([str(exe), "logits", str(target), ",".join(map(str, seq))], check=True,
                                        capture_output=True, text=True)
                rows.append(np.array(json.loads(result.stdout)["logits"], dtype=np.float32))
            write(out, qname, {"model": f"{qname}.gguf", "reference": f"llama.cpp {llama_root().name} "
                               "(llama-quantize " + qtype + "; F32 KV cache, flash attention off, 2 threads)",
                               "config": QUANT_MODEL[3], "sequences": seqs}, np.stack(rows))
            print(f"{qname}: {target.stat().st_size} bytes")

        smollm = cache_dir() / "models/SmolLM2-135M-Instruct.Q4_1.gguf"
        if not smollm.exists():
            sys.exit(f"make-fixtures: {smollm} is missing; run Scripts/fetch-models")
        runs = []
        for prompt in SMOLLM_PROMPTS:
            result = subprocess.run([str(exe), "greedy", str(smollm), str(SMOLLM_TOKENS), prompt], check=True,
                                    capture_output=True, text=True)
            run = json.loads(result.stdout)
            run["text"] = prompt
            runs.append(run)
        (out / "smollm2-greedy.json").write_text(json.dumps({
            "model": "SmolLM2-135M-Instruct.Q4_1.gguf",
            "reference": f"llama.cpp {llama_root().name} greedy (F32 KV cache, flash attention off, 2 threads); "
                         "margins are top-1 minus top-2 logit at each step",
            "runs": runs}, indent=1) + "\n")
        print("smollm2-greedy.json")


if __name__ == "__main__":
    main()
