#!/usr/bin/env python3
"""Writes a random-weight F16 GGUF with the real shapes of Qwen3-Coder-30B-A3B (`qwen3moe`) or Qwen3-Coder-Next
(`qwen3next`), cut to a few layers, for speed benchmarks. `make-random-gguf` quantizes it to Q4_K_M with
llama.cpp's llama-quantize.

usage: make_random_gguf.py {qwen3moe,qwen3next} VOCAB.gguf OUT.f16.gguf [--layers 8] [--seed 0]

- Shapes and metadata keys: shared/REFERENCE.md §2.1/§2.2 (llama.cpp names, ne0 first) and §3.1 (the Hugging Face
  configs of Qwen3-Coder-30B-A3B-Instruct and Qwen3-Coder-Next); qwen3next lays layers out as rounds of 3 linear
  (Gated DeltaNet) + 1 full-attention layer (`(i + 1) % 4 != 0` is linear).
- The tokenizer (tokenizer.* keys) is copied from VOCAB.gguf (Scripts/fixtures/qwen-vocab builds it from Qwen's
  qwen.tiktoken), so the file tokenizes like the real models.
- Weights: N(0, 0.02) matrices (a realistic scale, so activations stay finite through the layers), norm weights
  1 ± 0.05, ssm_a = -exp(N(0, 0.5)), dt bias small, conv taps N(0, 0.2). To keep generation cheap, every matrix is
  a window at a random offset into one pool of 2^26 normal values (distinct windows, so distinct weights after
  quantization); this does not change what a speed benchmark measures.
- Tensors are written one at a time (experts one slab at a time): a 15 GB file never sits in memory.
"""
import argparse
import sys

import numpy as np

import gguf

N_VOCAB = 151936
POOL = 1 << 26


def qwen3moe_spec(layers):
    """Keys and tensors of Qwen3-Coder-30B-A3B (REFERENCE.md §2, §3.1) with `layers` layers."""
    a = 'qwen3moe'
    n_embd, n_head, n_kv, head = 2048, 32, 4, 128
    n_exp, n_ff_exp = 128, 768
    keys = [
        ('uint32', f'{a}.context_length', 262144), ('uint32', f'{a}.embedding_length', n_embd),
        ('uint32', f'{a}.block_count', layers), ('uint32', f'{a}.feed_forward_length', 5472),
        ('uint32', f'{a}.attention.head_count', n_head), ('uint32', f'{a}.attention.head_count_kv', n_kv),
        ('uint32', f'{a}.attention.key_length', head), ('uint32', f'{a}.attention.value_length', head),
        ('float32', f'{a}.attention.layer_norm_rms_epsilon', 1e-6), ('float32', f'{a}.rope.freq_base', 1e7),
        ('uint32', f'{a}.expert_count', n_exp), ('uint32', f'{a}.expert_used_count', 8),
        ('uint32', f'{a}.expert_feed_forward_length', n_ff_exp),
    ]
    tensors = [('token_embd.weight', (n_embd, N_VOCAB), 'w')]
    for i in range(layers):
        p = f'blk.{i}.'
        tensors += [
            (p + 'attn_norm.weight', (n_embd,), 'norm'),
            (p + 'attn_q.weight', (n_embd, n_head * head), 'w'),
            (p + 'attn_k.weight', (n_embd, n_kv * head), 'w'),
            (p + 'attn_v.weight', (n_embd, n_kv * head), 'w'),
            (p + 'attn_output.weight', (n_head * head, n_embd), 'w'),
            (p + 'attn_q_norm.weight', (head,), 'norm'),
            (p + 'attn_k_norm.weight', (head,), 'norm'),
            (p + 'ffn_norm.weight', (n_embd,), 'norm'),
            (p + 'ffn_gate_inp.weight', (n_embd, n_exp), 'w32'),
            (p + 'ffn_gate_exps.weight', (n_embd, n_ff_exp, n_exp), 'w'),
            (p + 'ffn_up_exps.weight', (n_embd, n_ff_exp, n_exp), 'w'),
            (p + 'ffn_down_exps.weight', (n_ff_exp, n_embd, n_exp), 'w'),
        ]
    tensors += [('output_norm.weight', (n_embd,), 'norm'), ('output.weight', (n_embd, N_VOCAB), 'w')]
    return a, keys, tensors


def qwen3next_spec(layers):
    """Keys and tensors of Qwen3-Coder-Next (REFERENCE.md §2, §3.1, §3.4) with `layers` layers."""
    a = 'qwen3next'
    n_embd, n_head, n_kv, head = 2048, 16, 2, 256
    n_exp, n_ff_exp, n_ff_sh = 512, 512, 512
    k_heads, v_heads, d_state, conv = 16, 32, 128, 4
    key_dim, value_dim = k_heads * d_state, v_heads * d_state
    keys = [
        ('uint32', f'{a}.context_length', 262144), ('uint32', f'{a}.embedding_length', n_embd),
        ('uint32', f'{a}.block_count', layers), ('uint32', f'{a}.feed_forward_length', 5120),
        ('uint32', f'{a}.attention.head_count', n_head), ('uint32', f'{a}.attention.head_count_kv', n_kv),
        ('uint32', f'{a}.attention.key_length', head), ('uint32', f'{a}.attention.value_length', head),
        ('float32', f'{a}.attention.layer_norm_rms_epsilon', 1e-6), ('float32', f'{a}.rope.freq_base', 5e6),
        ('uint32', f'{a}.rope.dimension_count', 64),
        ('uint32', f'{a}.expert_count', n_exp), ('uint32', f'{a}.expert_used_count', 10),
        ('uint32', f'{a}.expert_feed_forward_length', n_ff_exp),
        ('uint32', f'{a}.expert_shared_feed_forward_length', n_ff_sh),
        ('uint32', f'{a}.ssm.conv_kernel', conv), ('uint32', f'{a}.ssm.state_size', d_state),
        ('uint32', f'{a}.ssm.group_count', k_heads), ('uint32', f'{a}.ssm.time_step_rank', v_heads),
        ('uint32', f'{a}.ssm.inner_size', value_dim), ('uint32', f'{a}.full_attention_interval', 4),
    ]
    tensors = [('token_embd.weight', (n_embd, N_VOCAB), 'w')]
    for i in range(layers):
        p = f'blk.{i}.'
        tensors += [(p + 'attn_norm.weight', (n_embd,), 'norm'), (p + 'post_attention_norm.weight', (n_embd,), 'norm')]
        if (i + 1) % 4 != 0:  # Gated DeltaNet layer
            tensors += [
                (p + 'attn_qkv.weight', (n_embd, 2 * key_dim + value_dim), 'w'),
                (p + 'attn_gate.weight', (n_embd, value_dim), 'w'),
                (p + 'ssm_ba.weight', (n_embd, 2 * v_heads), 'w'),
                (p + 'ssm_conv1d.weight', (conv, 2 * key_dim + value_dim), 'conv'),
                (p + 'ssm_dt.bias', (v_heads,), 'dt'),
                (p + 'ssm_a', (v_heads,), 'a'),
                (p + 'ssm_norm.weight', (d_state,), 'norm'),
                (p + 'ssm_out.weight', (value_dim, n_embd), 'w'),
            ]
        else:  # gated full attention: query and gate interleaved per head
            tensors += [
                (p + 'attn_q.weight', (n_embd, n_head * head * 2), 'w'),
                (p + 'attn_k.weight', (n_embd, n_kv * head), 'w'),
                (p + 'attn_v.weight', (n_embd, n_kv * head), 'w'),
                (p + 'attn_output.weight', (n_head * head, n_embd), 'w'),
                (p + 'attn_q_norm.weight', (head,), 'norm'),
                (p + 'attn_k_norm.weight', (head,), 'norm'),
            ]
        tensors += [
            (p + 'ffn_gate_inp.weight', (n_embd, n_exp), 'w32'),
            (p + 'ffn_gate_exps.weight', (n_embd, n_ff_exp, n_exp), 'w'),
            (p + 'ffn_up_exps.weight', (n_embd, n_ff_exp, n_exp), 'w'),
            (p + 'ffn_down_exps.weight', (n_ff_exp, n_embd, n_exp), 'w'),
            (p + 'ffn_gate_inp_shexp.weight', (n_embd,), 'w32'),
            (p + 'ffn_gate_shexp.weight', (n_embd, n_ff_sh), 'w'),
            (p + 'ffn_up_shexp.weight', (n_embd, n_ff_sh), 'w'),
            (p + 'ffn_down_shexp.weight', (n_ff_sh, n_embd), 'w'),
        ]
    tensors += [('output_norm.weight', (n_embd,), 'norm'), ('output.weight', (n_embd, N_VOCAB), 'w')]
    return a, keys, tensors


def copy_tokenizer(vocab_path, writer):
    """Copies every tokenizer.* key of the vocabulary GGUF with its own value type."""
    reader = gguf.GGUFReader(vocab_path)
    copied = 0
    for name, field in reader.fields.items():
        if not name.startswith('tokenizer.'):
            continue
        main = field.types[0]
        sub = field.types[1] if main == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(name, field.contents(), main, sub_type=sub)
        copied += 1
    if copied == 0:
        sys.exit(f'make_random_gguf: {vocab_path} holds no tokenizer.* keys (expected the Qwen vocabulary GGUF)')


class Weights:
    """Makes each tensor's values; matrices are windows into one pool of normal values (see the module doc)."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.pool = (self.rng.standard_normal(POOL, dtype=np.float32) * 0.02).astype(np.float16)

    def write(self, count, out):
        """Writes `count` F16 values, in windows of at most half the pool, each at a random offset."""
        while count > 0:
            n = min(count, POOL // 2)
            start = int(self.rng.integers(0, POOL - n + 1))
            self.pool[start:start + n].tofile(out)
            count -= n

    def small(self, kind, shape):
        """Values of 1-D (and other F32) tensors, as float32, in numpy order (ne reversed)."""
        n = int(np.prod(shape))
        if kind == 'norm':
            v = 1.0 + 0.05 * self.rng.standard_normal(n)
        elif kind == 'a':
            v = -np.exp(0.5 * self.rng.standard_normal(n))
        elif kind == 'dt':
            v = 0.1 * self.rng.standard_normal(n)
        elif kind == 'conv':
            v = 0.2 * self.rng.standard_normal(n)
        else:  # 'w32': router and shared-expert gate stay F32 in llama.cpp's Q4_K_M files
            v = 0.02 * self.rng.standard_normal(n)
        return v.astype(np.float32).reshape(tuple(reversed(shape)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('arch', choices=['qwen3moe', 'qwen3next'])
    parser.add_argument('vocab')
    parser.add_argument('out')
    parser.add_argument('--layers', type=int, default=8)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()
    if args.layers < 1 or (args.arch == 'qwen3next' and args.layers % 4 != 0):
        sys.exit('make_random_gguf: --layers must be ≥ 1 (a multiple of 4 for qwen3next: rounds of 3 linear + 1 full)')

    arch, keys, tensors = (qwen3moe_spec if args.arch == 'qwen3moe' else qwen3next_spec)(args.layers)
    writer = gguf.GGUFWriter(args.out, arch)
    writer.add_name(f'random {arch} ({args.layers} layers, real shapes)')
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
    for kind, key, value in keys:
        getattr(writer, f'add_{kind}')(key, value)
    copy_tokenizer(args.vocab, writer)

    weights = Weights(args.seed)
    f16 = ('w',)
    for name, shape, kind in tensors:
        dtype = np.float16 if kind in f16 else np.float32
        nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
        writer.add_tensor_info(name, tuple(reversed(shape)), np.dtype(dtype), nbytes)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()

    out = writer.fout[0]
    total = 0
    for name, shape, kind in tensors:
        writer.write_padding(out, out.tell())
        if kind in f16:
            # One slab (the last ne, e.g. one expert) at a time.
            slab = int(np.prod(shape[:2]))
            for _ in range(int(np.prod(shape[2:]))):
                weights.write(slab, out)
            nbytes = int(np.prod(shape)) * 2
        else:
            values = weights.small(kind, shape)
            values.tofile(out)
            nbytes = values.nbytes
        writer.write_padding(out, nbytes)
        total += nbytes
    writer.close()
    print(f'make_random_gguf: wrote {args.out}: {arch}, {args.layers} layers, {len(tensors)} tensors, '
          f'{total / 1e9:.2f} GB of tensor data', file=sys.stderr)


if __name__ == '__main__':
    main()
