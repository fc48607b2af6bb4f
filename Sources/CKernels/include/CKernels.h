#ifndef SPARROW_CKERNELS_H
#define SPARROW_CKERNELS_H

#include <stddef.h>
#include <stdint.h>

/// CPU features that select SIMD kernels at run time.
typedef struct {
    int avx2;
    int fma;
    int f16c;
    /// AVX-512 F, BW, VL, DQ and VNNI, with the zmm/opmask state enabled by the OS (XCR0 bits 1, 2, 5, 6, 7).
    int avx512;
    /// The CPU family as Linux's /proc/cpuinfo shows it (CPUID.1:EAX base family, plus the extended family when the
    /// base is 15: 6 on recent Intel cores, 25 on AMD Zen 3/4, 26 on Zen 5); 0 off x86.
    int family;
    /// Whether 1-row products on the AVX-512 repacked Q4_K kernel prefetch (`sparrow_x16_row_prefetch`).
    int x16_row_prefetch;
} sparrow_cpu_features;

/// Reads the CPU features of the machine this process runs on.
sparrow_cpu_features sparrow_detect_cpu_features(void);

/// Writes the CPUID vendor string ("GenuineIntel", "AuthenticAMD", ...) and a NUL to `vendor`; returns 0 and writes ""
/// where there is none (not x86).
int sparrow_cpu_vendor(char vendor[13]);

/// The display family of CPUID.1:EAX: base family (bits 8-11), plus the extended family (bits 20-27) when the base
/// is 15.
int sparrow_cpu_display_family(uint32_t cpuid1_eax);

/// Whether a 1-row Q4_K product on the AVX-512 repacked kernel prefetches its weights, for a CPU of this vendor and
/// family: everywhere but AMD family 25 (Zen 4 measured slower with it; Intel and Zen 5 faster: dot_avx512_x16.c).
int sparrow_x16_row_prefetch(const char *vendor, int family);

/// Whether the AVX-512 level may run, from raw CPUID and XGETBV words: CPUID.1:ECX (OSXSAVE is bit 27), CPUID.7.0:EBX
/// (F 16, DQ 17, BW 30, VL 31), CPUID.7.0:ECX (VNNI 11) and XCR0 (SSE, AVX, opmask, ZMM_Hi256 and Hi16_ZMM state:
/// bits 1, 2, 5, 6, 7). Pure, so tests can pass the words of a CPU or OS without it.
int sparrow_avx512_usable(uint32_t cpuid1_ecx, uint32_t cpuid7_ebx, uint32_t cpuid7_ecx, uint64_t xcr0);

/// 1 when this C target was compiled with optimisation (a release build); benchmarks report it.
int sparrow_ckernels_optimized(void);

// MARK: - Types (ggml type ids, ggml.h `enum ggml_type`)

/// Activation formats. Q8_0 and Q8_K have ggml's block layouts; Q8_1 here is Sparrow's own 40-byte block
/// (f32 d, f32 s = d·Σq, 32 × int8) so that the Q4_1/Q5_1 bias term is exact (ggml rounds s to f16).
enum {
    SPARROW_ACT_F32 = 0,
    SPARROW_ACT_Q8_0 = 8,
    SPARROW_ACT_Q8_1 = 9,
    SPARROW_ACT_Q8_K = 15,
};

/// Kernel levels: the scalar reference, AVX2/FMA/F16C code, or AVX-512 (F/BW/VL/DQ + VNNI) code, selected at run
/// time. The AVX-512 level has multi-row kernels of its own and runs the AVX2 kernels everywhere else, so it covers
/// every type AVX2 does (on a CPU that has both).
enum {
    SPARROW_LEVEL_SCALAR = 0,
    SPARROW_LEVEL_AVX2 = 1,
    SPARROW_LEVEL_AVX512 = 2,
};

// MARK: - Dequantization (scalar reference, equal to gguf-py bit for bit)

/// Dequantizes `n` values of ggml type `type` from `src` into `dst`. Returns 0, or -1 when the type is not
/// supported or `n` is not a multiple of its block size.
int sparrow_dequantize(uint32_t type, const void *src, float *dst, int64_t n);

// MARK: - Activation quantization (ggml's *_ref quantizers)

/// The activation format a weight type is dotted with, or -1 when the type has no kernel.
int sparrow_activation_type(uint32_t weight_type);

/// Bytes one activation row of `n` values takes in format `act_type`, or 0 when `n` does not fit its blocks.
size_t sparrow_activation_row_bytes(int act_type, int64_t n);

/// Quantizes `n` floats into format `act_type`. Returns 0, or -1 on an unknown format or a bad length.
int sparrow_quantize_activation(int act_type, const float *x, void *dst, int64_t n);

/// Q8_K through the portable loops even where `sparrow_quantize_activation` takes the AVX-512 ones (which give the
/// same bytes; for the tests). Returns as `sparrow_quantize_activation`.
int sparrow_quantize_q8_K_portable(const float *x, void *dst, int64_t n);

// MARK: - Dot products

/// Whether `type` has a kernel at `level` (the scalar level covers every supported type).
int sparrow_has_kernel(uint32_t type, int level);

/// One row: the dot product of `n` weights of `type` with an activation row already in
/// `sparrow_activation_type(type)` format. Returns 0, or -1 when there is no kernel at that level.
int sparrow_vec_dot(uint32_t type, int level, int64_t n, const void *w, const void *x, float *result);

/// Whether `level` has a kernel of its own for `type` on this CPU (for the AVX-512 level: a multi-row kernel, not
/// AVX2's).
int sparrow_has_own_kernel(uint32_t type, int level);

/// One weight row against `count` (1...8) activation rows `x_stride` bytes apart, as a mat-mul tile computes it (the
/// multi-row kernel where the level has one, else the row kernel per row). Each out[k] equals `sparrow_vec_dot` on
/// row k bit for bit. Returns 0, or -1 when there is no kernel at that level or `count` is out of range.
int sparrow_vec_dotn(uint32_t type, int level, int64_t n, const void *w, const void *x, size_t x_stride, int count,
                     float *out);

/// As `sparrow_vec_dotn`, through the kernel that reads the activation rows interleaved into a tile (what a mat-mul
/// of 4...8 activation rows uses for Q4_K and Q6_K at the AVX-512 level). Returns 0; -1 when the type has no such
/// kernel at that level or `count` is out of range; -2 when the tile cannot be allocated.
int sparrow_vec_dot_tile(uint32_t type, int level, int64_t n, const void *w, const void *x, size_t x_stride, int count,
                         float *out);

/// As `sparrow_vec_dot_tile` for two weight rows at once (`out0`, `out1`: `count` results each), through the kernel
/// a mat-mul runs on pairs of rows. Same return values.
int sparrow_vec_dot_tile_pair(uint32_t type, int level, int64_t n, const void *w0, const void *w1, const void *x,
                              size_t x_stride, int count, float *out0, float *out1);
/// Whether `level` has an interleaved-tile kernel for `type` on this CPU.
int sparrow_has_tile_kernel(uint32_t type, int level);

/// Whether `level` has a few-rows kernel for `type` on this CPU.
int sparrow_has_few_rows_kernel(uint32_t type, int level);

/// As `sparrow_vec_dotn`, through the few-rows kernel (what a mat-mul of 2 or 3 activation rows uses for Q4_K and Q6_K
/// at the AVX-512 level). Returns 0, or -1 when the type has no such kernel at that level or `count` is not 1...4.
int sparrow_vec_dot_few(uint32_t type, int level, int64_t n, const void *w, const void *x, size_t x_stride, int count,
                        float *out);

// MARK: - Repacked weights (an opt-in layout for Q4_K and Q6_K at the AVX-512 level)

/// Bytes of the 16-row repacked layout of an `n_rows` × `n_cols` matrix of `type`; 0 when the type has no such
/// layout (Q4_K and Q6_K have) or the shape does not fit it (rows a multiple of 16, rows of whole 256-value blocks).
size_t sparrow_repacked_bytes(uint32_t type, int64_t n_rows, int64_t n_cols);

/// A persistent pool: `n_threads - 1` worker threads plus the calling thread (see Thread pool below).
typedef struct sparrow_pool sparrow_pool;

/// Writes the repacked layout of the ggml matrix at `w` (rows contiguous) to `dst` (`sparrow_repacked_bytes`
/// bytes, 64-byte aligned), its 16-row groups shared out across `pool` (may be NULL). Returns 0, -1 on a type or
/// shape without the layout.
int sparrow_repack(sparrow_pool *pool, uint32_t type, const void *w, int64_t n_rows, int64_t n_cols, void *dst);

/// Whether `level` has a kernel for repacked weights of `type` on this CPU (a mat-mul given a repacked copy uses it
/// for every group of 16 rows of a product of as many activation rows as `sparrow_repacked_takes_batch` says; other
/// products take the ggml rows).
int sparrow_has_repacked_kernel(uint32_t type, int level);

/// Whether a product of `n_batch` activation rows with a repacked matrix of `type` reads the repacked copy (where the
/// level has its kernel) rather than the ggml rows: Q4_K from 1 row, Q6_K from 2.
int sparrow_repacked_takes_batch(uint32_t type, int64_t n_batch);

/// One group of 16 repacked weight rows (`w`: the group's first block) against `count` (1…8) activation rows:
/// out[a · 16 + r]. Each equals `sparrow_vec_dot` on the ggml row r bit for bit. Returns 0, -1 when the level has
/// no such kernel or a size is out of range.
int sparrow_vec_dot_repacked(uint32_t type, int level, int64_t n, const void *w, const void *x, size_t x_stride,
                             int count, float *out);

/// Whether this CPU and OS run the AMX kernels of the repacked layouts (AMX-TILE and AMX-INT8, the tile state enabled,
/// Linux's permission for the process granted on the first call). A mat-mul with a repacked copy takes them for the
/// products of 4 or more activation rows when the environment variable SPARROW_AMX is "on" or "1" (opt-in: slower
/// than the VNNI kernels so far, dot_amx_x16.c).
int sparrow_has_amx(void);

/// Whether AMX may run, from raw words: CPUID.7.0:EDX (AMX-TILE bit 24, AMX-INT8 bit 25) and XCR0 (XTILECFG and
/// XTILEDATA state: bits 17, 18). Pure, so tests can pass the words of a CPU or OS without it.
int sparrow_amx_usable(uint32_t cpuid7_edx, uint64_t xcr0);

/// As `sparrow_vec_dot_repacked`, through the AMX kernel, `count` 1…16. Returns -1 where `sparrow_has_amx` is 0, the
/// level is not the AVX-512 one, or a size is out of range.
int sparrow_vec_dot_repacked_amx(uint32_t type, int level, int64_t n, const void *w, const void *x, size_t x_stride,
                                 int count, float *out);

// MARK: - Thread pool

/// Starts a pool; NULL when a thread cannot be started.
sparrow_pool *sparrow_pool_create(int n_threads);
/// Stops and joins the workers.
void sparrow_pool_destroy(sparrow_pool *pool);
/// Threads taking part in each job, the caller included.
int sparrow_pool_size(const sparrow_pool *pool);
/// Runs `fn(ctx, ith, nth)` on the calling thread (ith 0) and on every worker that wakes in time (ith 1..<nth, each
/// index at most once), and returns when all of those have finished. A worker that wakes after the caller finished
/// its part skips the job, so `fn` must share its work out dynamically (an atomic counter), never by `ith` alone.
/// Calls from several threads are serialised; `fn` must not call back into the same pool (it would wait on itself).
void sparrow_pool_run(sparrow_pool *pool, void (*fn)(void *ctx, int ith, int nth), void *ctx);
/// Calls `fn(ctx, i)` once for every i in 0..<count, the indices handed out one at a time through a shared counter
/// to the calling thread and the workers that join (one pool job, no allocation). `pool` may be NULL (this thread
/// runs them all, in order). Same rule as `sparrow_pool_run`: `fn` must not use the same pool.
void sparrow_pool_for(sparrow_pool *pool, int64_t count, void (*fn)(void *ctx, int64_t index), void *ctx);

// MARK: - Matrix products

/// y[b * n_rows + r] = row r of W · activation row b, for every row r and batch row b. Each output equals one call
/// of the same row kernel bit for bit, so it does not depend on the batch size or the thread count. `pool` may be
/// NULL.
/// Returns 0, or -1 when `type` has no kernel at `level`.
/// `w_repacked`: the same matrix in the 16-row repacked layout, or NULL (see `sparrow_product`).
int sparrow_matmul(sparrow_pool *pool, int level, uint32_t type, const void *w, size_t w_row_bytes, int64_t n_rows,
                   int64_t n_cols, const void *x, size_t x_row_bytes, int64_t n_batch, float *y,
                   const void *w_repacked);

/// One product of `sparrow_matmul_many`: the arguments of one `sparrow_matmul` call.
typedef struct {
    uint32_t type;
    int32_t level;
    const void *w;
    size_t w_row_bytes;
    int64_t n_rows, n_cols;
    const void *x;
    size_t x_row_bytes;
    int64_t n_batch;
    float *y;
    /// The same matrix in the 16-row repacked layout (`sparrow_repack`), or NULL. Where the level has a repacked
    /// kernel for the type, whole groups of 16 rows are computed from it when the product has enough activation rows
    /// (`sparrow_repacked_takes_batch`: Q4_K 1 or more, Q6_K 4 or more; same bits; `sparrow_has_repacked_kernel`).
    const void *w_repacked;
    /// NULL, or one output array per activation row (at most SPARROW_MAX_SEPARATE_OUTPUT_ROWS rows, else the call
    /// returns -1): row b's `n_rows` outputs go to y_rows[b] instead of y (unused then), with the same bits (each
    /// range is computed into a staging block and copied from there). The arrays and this table must stay valid until
    /// the call returns.
    float *const *y_rows;
} sparrow_product;

/// Most activation rows a product with separate output arrays (`sparrow_product.y_rows`) takes.
#define SPARROW_MAX_SEPARATE_OUTPUT_ROWS 64

/// Runs `count` independent products in one pool job (their row chunks shared out through one counter); each
/// output equals what `sparrow_matmul` gives for that product, bit for bit. Returns 0, -1 when a type has no kernel
/// at its level or a size is negative (nothing is computed then), -2 when scratch memory is unavailable.
int sparrow_matmul_many(sparrow_pool *pool, const sparrow_product *products, int64_t count);
/// Bytes of scratch `sparrow_matmul_many_with` needs for `count` products.
size_t sparrow_matmul_many_scratch_bytes(int64_t count);
/// `sparrow_matmul_many` with its job table in `scratch` (at least `sparrow_matmul_many_scratch_bytes(count)` bytes,
/// aligned for 8-byte values) instead of the stack or the heap, so a caller that runs many products every step
/// (a batch's active experts) can reuse one buffer. Same results and return values.
int sparrow_matmul_many_with(sparrow_pool *pool, const sparrow_product *products, int64_t count, void *scratch);

// MARK: - Attention

/// One query row of `sparrow_attention`: `heads × head_dim` query values, the output of the same size, and the
/// K and V vectors of cache positions 0..<n_pos, one pointer per position (so a paged cache needs no copy) to the
/// position's vector of KV head 0; KV head h's is `kv_head_stride` · h floats further (0: head_dim, the heads side by
/// side; a cache that keeps each head's positions together passes its distance between heads).
typedef struct {
    const float *q;
    float *out;
    const float *const *k;
    const float *const *v;
    int64_t n_pos;
    int64_t kv_head_stride;
} sparrow_attention_row;

/// Causal grouped-query attention for `n_rows` query rows across the pool (query head h reads KV head
/// h / (heads / kv_heads)); scale 1/√head_dim. `scratch` holds `sparrow_pool_size(pool)` areas of
/// `sparrow_attention_scratch_floats(heads, kv_heads, head_dim, max_pos)` floats each, for rows of at most `max_pos`
/// positions (32-byte aligned for the fast path). Each row's output depends only on that row's inputs, and has the
/// same bits on every path. Returns 0, or -1 on bad sizes (nothing is computed then).
int sparrow_attention(sparrow_pool *pool, const sparrow_attention_row *rows, int64_t n_rows, int heads, int kv_heads,
                      int head_dim, float *scratch, int64_t max_pos);

/// `sparrow_attention` on the portable path (one (row, head) at a time, no transposed blocks): the reference the
/// tests compare the fast path with, bit for bit.
int sparrow_attention_portable(sparrow_pool *pool, const sparrow_attention_row *rows, int64_t n_rows, int heads,
                               int kv_heads, int head_dim, float *scratch, int64_t max_pos);

/// `sparrow_attention` on the AVX2 path even where the CPU has AVX-512 (what a CPU without AVX-512 runs; for the
/// tests). Returns -2 when the CPU has no AVX2.
int sparrow_attention_avx2(sparrow_pool *pool, const sparrow_attention_row *rows, int64_t n_rows, int heads,
                           int kv_heads, int head_dim, float *scratch, int64_t max_pos);

/// The exponential the attention's softmax uses (on every path): e^x within 2 ulp for x in [−87, 0], 0 below −87,
/// NaN for NaN; not defined above 0 (the softmax's scores minus their maximum never are). Exposed for tests.
float sparrow_attention_exp(float x);

/// Floats of scratch `sparrow_attention` needs per pool thread for rows of at most `max_pos` positions.
int64_t sparrow_attention_scratch_floats(int heads, int kv_heads, int head_dim, int64_t max_pos);

// MARK: - SwiGLU gate (silu.c)

/// Levels of `sparrow_silu_mul` and `sparrow_silu_exp`. Every level gives the same bits: e^x as glibc's expf
/// computes it on a CPU with FMA and AVX2 (its algorithm and constants, fused multiply-adds where that build has them).
enum {
    SPARROW_SILU_PORTABLE = 0,
    SPARROW_SILU_FMA = 1,
    SPARROW_SILU_AVX512 = 2,
};

/// The fastest level of `sparrow_silu_mul` this CPU runs.
int sparrow_silu_best_level(void);

/// out[i] = silu(a[i]) · b[i] = a[i] / (1 + e^(−a[i])) · b[i] for i in 0..<n, each operation rounded to float as
/// written (`out` may be `a` or `b`); when silu(a) and b are both NaN, silu(a)'s NaN. Returns 0, or -1 on a level this
/// CPU does not run or a negative n.
int sparrow_silu_mul(int level, const float *a, const float *b, float *out, int64_t n);

/// out[i] = e^(x[i]), the exponential `sparrow_silu_mul` uses (for tests). Returns as `sparrow_silu_mul`.
int sparrow_silu_exp(int level, const float *x, float *out, int64_t n);

// MARK: - Memory bandwidth

/// a[i] = b[i] + s * c[i] for i in 0..<n, in parts of 64 Ki elements shared out across the pool (STREAM's triad).
void sparrow_triad(sparrow_pool *pool, float *a, const float *b, const float *c, float s, int64_t n);

/// CPU seconds used by this process so far (all threads), or 0 when the clock is unavailable.
double sparrow_process_cpu_seconds(void);

// MARK: - Gated delta rule (qwen3next linear attention; delta_rule.c)

/// Levels of the delta-rule kernels. Every level gives the scalar reference's bits (each output a chain of fused
/// multiply-adds in a fixed order), so the level changes speed only. The kernels run with flush-to-zero and
/// denormals-are-zero set (and the caller's mode restored on return).
enum {
    SPARROW_DELTA_RULE_SCALAR = 0,
    SPARROW_DELTA_RULE_AVX2 = 1,
    SPARROW_DELTA_RULE_AVX512 = 2,
};

/// The fastest delta-rule level this CPU runs.
int sparrow_delta_rule_best_level(void);

/// One token of one value head, the recurrent form: with d = e^g, m = Σ_i (d S_i)·k_i, δ = β (v − m),
/// S_i ← k_i δ + d S_i, out = Σ_i S_i·q_i. `state` is `(dk, dv)` row-major; q, k `(dk)`, v and out `(dv)`.
/// Returns 0, or -1 on a bad level or size (nothing is computed then).
int sparrow_delta_rule_step(int level, int64_t dk, int64_t dv, const float *q, const float *k, const float *v,
                            float beta, float g, float *state, float *out);

/// Floats of scratch `sparrow_delta_rule_chunk` needs for a chunk of `n` tokens (0 for bad sizes).
size_t sparrow_delta_rule_chunk_scratch(int64_t n, int64_t dk, int64_t dv);

/// One chunk of `n` tokens of one value head, the WY form (REFERENCE.md §3.4): token i reads q and k at
/// `i · qk_stride` (dk floats each), v at `i · v_stride` (dv floats), β and g at `i · bg_stride`; writes its dv
/// outputs at `out + i · out_stride` and updates `state` `(dk, dv)`. `scratch` holds
/// `sparrow_delta_rule_chunk_scratch(n, dk, dv)` floats. Returns 0, or -1 on a bad level or size.
int sparrow_delta_rule_chunk(int level, int64_t n, int64_t dk, int64_t dv, const float *q, const float *k,
                             int64_t qk_stride, const float *v, int64_t v_stride, const float *beta,
                             const float *g, int64_t bg_stride, float *state, float *out, int64_t out_stride,
                             float *scratch);

#endif
