// The gated delta rule of Gated DeltaNet (qwen3next's linear attention) for one value head: the recurrent step of
// decode and the chunked (WY / UT-transform) form of prefill, as transformers' `torch_recurrent_gated_delta_rule`
// and `torch_chunk_gated_delta_rule` define them (REFERENCE.md §3.4).
//
// The chunk is a handful of small matrix products. All of them go through one primitive, `dr_gemm`, in which every
// output element is a chain of fused multiply-adds over the inner index in increasing order. The scalar reference
// (`dr_gemm_scalar`, plain loops and fmaf) defines the bits; the AVX2 and AVX-512 versions (delta_rule_simd.h) only
// compute several elements at once, so they give the same bits (the tests check it), and a sequence's result does
// not depend on the level chosen, the batch it is in or the threads that ran it.
#include <math.h>
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

#include "CKernels.h"

/// C[i, 0..ncols(i)) = (load ? C : 0) + Σ_{k < kend(i)} A[i·ars + k·acs] · B[k·ldb + col], for i < m.
/// kend(i) = K, or min(K, i + tri) when tri ≥ 0 (triangular A); ncols(i) = n, or min(n, i + cols) when cols ≥ 0.
typedef struct {
    int64_t m, n, k;
    const float *a;
    int64_t ars, acs;
    const float *b;
    int64_t ldb;
    float *c;
    int64_t ldc;
    int64_t tri, cols;
    int load;
} dr_gemm_args;

static inline int64_t dr_kend(const dr_gemm_args *g, int64_t i) {
    if (g->tri < 0) return g->k;
    return i + g->tri < g->k ? i + g->tri : g->k;
}

static inline int64_t dr_ncols(const dr_gemm_args *g, int64_t i) {
    if (g->cols < 0) return g->n;
    return i + g->cols < g->n ? i + g->cols : g->n;
}

/// The reference: one fmaf chain per element.
static void dr_gemm_scalar(const dr_gemm_args *g) {
    for (int64_t i = 0; i < g->m; i++) {
        const float *a = g->a + i * g->ars;
        float *c = g->c + i * g->ldc;
        const int64_t kend = dr_kend(g, i), n = dr_ncols(g, i);
        for (int64_t col = 0; col < n; col++) {
            float acc = g->load ? c[col] : 0.0f;
            for (int64_t k = 0; k < kend; k++) acc = fmaf(a[k * g->acs], g->b[k * g->ldb + col], acc);
            c[col] = acc;
        }
    }
}

/// The recurrent step for columns [col0, col1) of one head (the reference, and the SIMD versions' ragged edge):
/// m = Σ_i (e^g S_i)·k_i; δ = β (v − m); S_i ← k_i δ + e^g S_i; o = Σ_i S_i·q_i — each a fused chain over i.
static void dr_step_columns(int64_t dk, int64_t dv, int64_t col0, int64_t col1, const float *q, const float *k,
                            const float *v, float beta, float decay, float *s, float *out) {
    for (int64_t e = col0; e < col1; e++) {
        float m = 0.0f;
        for (int64_t i = 0; i < dk; i++) m = fmaf(s[i * dv + e] * decay, k[i], m);
        const float d = beta * (v[e] - m);
        float o = 0.0f;
        for (int64_t i = 0; i < dk; i++) {
            const float updated = fmaf(k[i], d, s[i * dv + e] * decay);
            s[i * dv + e] = updated;
            o = fmaf(updated, q[i], o);
        }
        out[e] = o;
    }
}

static void dr_step_scalar(int64_t dk, int64_t dv, const float *q, const float *k, const float *v, float beta,
                           float decay, float *s, float *out) {
    dr_step_columns(dk, dv, 0, dv, q, k, v, beta, decay, s, out);
}

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define DR_ROWS 4
#define DR_COLS 2
#define DR_STEP_COLS 4
#define DR_NAME(x) x##_avx2
#define DR_TARGET __attribute__((target("avx2,fma")))
#define DR_V __m256
#define DR_W 8
#define DR_LOAD(p) _mm256_loadu_ps(p)
#define DR_STORE(p, v) _mm256_storeu_ps((p), (v))
#define DR_SET1(x) _mm256_set1_ps(x)
#define DR_ZERO() _mm256_setzero_ps()
#define DR_MUL(a, b) _mm256_mul_ps((a), (b))
#define DR_SUB(a, b) _mm256_sub_ps((a), (b))
#define DR_FMA(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#include "delta_rule_simd.h"
#undef DR_ROWS
#undef DR_COLS
#undef DR_STEP_COLS
#undef DR_NAME
#undef DR_TARGET
#undef DR_V
#undef DR_W
#undef DR_LOAD
#undef DR_STORE
#undef DR_SET1
#undef DR_ZERO
#undef DR_MUL
#undef DR_SUB
#undef DR_FMA

#define DR_ROWS 4
#define DR_COLS 4
#define DR_STEP_COLS 4
#define DR_NAME(x) x##_avx512
#define DR_TARGET __attribute__((target("avx512f,fma")))
#define DR_V __m512
#define DR_W 16
#define DR_LOAD(p) _mm512_loadu_ps(p)
#define DR_STORE(p, v) _mm512_storeu_ps((p), (v))
#define DR_SET1(x) _mm512_set1_ps(x)
#define DR_ZERO() _mm512_setzero_ps()
#define DR_MUL(a, b) _mm512_mul_ps((a), (b))
#define DR_SUB(a, b) _mm512_sub_ps((a), (b))
#define DR_FMA(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#include "delta_rule_simd.h"
#endif

int sparrow_delta_rule_best_level(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma")) return SPARROW_DELTA_RULE_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return SPARROW_DELTA_RULE_AVX2;
#endif
    return SPARROW_DELTA_RULE_SCALAR;
}

static void dr_gemm(int level, const dr_gemm_args *g) {
#if defined(__x86_64__) || defined(__i386__)
    if (level == SPARROW_DELTA_RULE_AVX512) { dr_gemm_avx512(g); return; }
    if (level == SPARROW_DELTA_RULE_AVX2) { dr_gemm_avx2(g); return; }
#endif
    (void)level;
    dr_gemm_scalar(g);
}

/// Flush-to-zero and denormals-are-zero for the kernel's duration, at every level alike (so the levels still agree
/// bit for bit). Strong decays drive e^Γ through the subnormal range inside a chunk, where each multiply takes a
/// microcode assist of ~100 cycles; values below 2^−126 next to O(1) outputs change nothing measurable.
typedef struct {
    unsigned int saved;
} dr_fp_mode;

static inline dr_fp_mode dr_fp_enter(void) {
#if defined(__x86_64__) || defined(__i386__)
    const dr_fp_mode mode = {_mm_getcsr()};
    _mm_setcsr(mode.saved | 0x8040);  // FTZ (bit 15) | DAZ (bit 6)
    return mode;
#else
    return (dr_fp_mode){0};
#endif
}

static inline void dr_fp_leave(dr_fp_mode mode) {
#if defined(__x86_64__) || defined(__i386__)
    _mm_setcsr(mode.saved);
#else
    (void)mode;
#endif
}

static int dr_level_ok(int level) {
    if (level == SPARROW_DELTA_RULE_SCALAR) return 1;
    if (level != SPARROW_DELTA_RULE_AVX2 && level != SPARROW_DELTA_RULE_AVX512) return 0;
    return level <= sparrow_delta_rule_best_level();
}

int sparrow_delta_rule_step(int level, int64_t dk, int64_t dv, const float *q, const float *k, const float *v,
                            float beta, float g, float *state, float *out) {
    if (!dr_level_ok(level) || dk < 1 || dv < 1) return -1;
    const dr_fp_mode mode = dr_fp_enter();
    const float decay = expf(g);
#if defined(__x86_64__) || defined(__i386__)
    if (level == SPARROW_DELTA_RULE_AVX512) {
        dr_step_avx512(dk, dv, q, k, v, beta, decay, state, out);
    } else if (level == SPARROW_DELTA_RULE_AVX2) {
        dr_step_avx2(dk, dv, q, k, v, beta, decay, state, out);
    } else
#endif
    {
        dr_step_scalar(dk, dv, q, k, v, beta, decay, state, out);
    }
    dr_fp_leave(mode);
    return 0;
}

size_t sparrow_delta_rule_chunk_scratch(int64_t n, int64_t dk, int64_t dv) {
    if (n < 1 || dk < 1 || dv < 1) return 0;
    // Γ and a row copy (n each), Kᵀ (dk·n), T and P (n·n each), βv and U (n·dv each), βe^Γk, W and e^Γq (n·dk each).
    return (size_t)(2 * n + dk * n + 2 * n * n + 2 * n * dv + 3 * n * dk);
}

int sparrow_delta_rule_chunk(int level, int64_t n, int64_t dk, int64_t dv, const float *q, const float *k,
                             int64_t qk_stride, const float *v, int64_t v_stride, const float *beta,
                             const float *g, int64_t bg_stride, float *state, float *out, int64_t out_stride,
                             float *scratch) {
    if (!dr_level_ok(level) || n < 1 || dk < 1 || dv < 1) return -1;
    const dr_fp_mode mode = dr_fp_enter();
    float *cum = scratch, *tmp = cum + n, *kt = tmp + n, *t = kt + dk * n, *p = t + n * n, *vb = p + n * n;
    float *u = vb + n * dv, *kb = u + n * dv, *w = kb + n * dk, *qe = w + n * dk;

    // Γ: the running sum of g.
    float running = 0.0f;
    for (int64_t i = 0; i < n; i++) {
        running += g[i * bg_stride];
        cum[i] = running;
    }
    for (int64_t i = 0; i < n; i++) {
        for (int64_t x = 0; x < dk; x++) kt[x * n + i] = k[i * qk_stride + x];
    }
    // Gram rows: t[i, c] = k_i·k_c for c < i, p[i, c] = q_i·k_c for c ≤ i.
    dr_gemm(level, &(dr_gemm_args){.m = n, .n = n, .k = dk, .a = k, .ars = qk_stride, .acs = 1, .b = kt, .ldb = n,
                                   .c = t, .ldc = n, .tri = -1, .cols = 0, .load = 0});
    dr_gemm(level, &(dr_gemm_args){.m = n, .n = n, .k = dk, .a = q, .ars = qk_stride, .acs = 1, .b = kt, .ldb = n,
                                   .c = p, .ldc = n, .tri = -1, .cols = 1, .load = 0});
    // The strictly lower system A[i, c] = −β_i (k_i·k_c) e^{Γi−Γc}, and P[i, c] = (q_i·k_c) e^{Γi−Γc}.
    for (int64_t i = 0; i < n; i++) {
        const float b = beta[i * bg_stride];
        for (int64_t c = 0; c < i; c++) t[i * n + c] = -b * t[i * n + c] * expf(cum[i] - cum[c]);
        for (int64_t c = i; c < n; c++) t[i * n + c] = 0.0f;
        for (int64_t c = 0; c <= i; c++) p[i * n + c] = p[i * n + c] * expf(cum[i] - cum[c]);
    }
    // Forward substitution: T_i = A_i + Σ_{m<i} A[i, m] T_m (rows above already solved, the diagonal still 0).
    for (int64_t i = 1; i < n; i++) {
        memcpy(tmp, t + i * n, (size_t)i * sizeof(float));
        dr_gemm(level, &(dr_gemm_args){.m = 1, .n = i, .k = i, .a = tmp, .ars = 0, .acs = 1, .b = t, .ldb = n,
                                       .c = t + i * n, .ldc = n, .tri = -1, .cols = -1, .load = 1});
    }
    for (int64_t i = 0; i < n; i++) t[i * n + i] = 1.0f;
    for (int64_t i = 0; i < n; i++) {
        const float b = beta[i * bg_stride], e = expf(cum[i]);
        const float *ki = k + i * qk_stride, *qi = q + i * qk_stride, *vi = v + i * v_stride;
        for (int64_t x = 0; x < dk; x++) kb[i * dk + x] = b * ki[x] * e;
        for (int64_t x = 0; x < dk; x++) qe[i * dk + x] = qi[x] * e;
        for (int64_t x = 0; x < dv; x++) vb[i * dv + x] = b * vi[x];
    }
    // U = T βV, W = T (βK ⊙ e^Γ), then V' = U − W S (in u).
    dr_gemm(level, &(dr_gemm_args){.m = n, .n = dv, .k = n, .a = t, .ars = n, .acs = 1, .b = vb, .ldb = dv, .c = u,
                                   .ldc = dv, .tri = 1, .cols = -1, .load = 0});
    dr_gemm(level, &(dr_gemm_args){.m = n, .n = dk, .k = n, .a = t, .ars = n, .acs = 1, .b = kb, .ldb = dk, .c = w,
                                   .ldc = dk, .tri = 1, .cols = -1, .load = 0});
    for (int64_t i = 0; i < n * dk; i++) w[i] = -w[i];
    dr_gemm(level, &(dr_gemm_args){.m = n, .n = dv, .k = dk, .a = w, .ars = dk, .acs = 1, .b = state, .ldb = dv,
                                   .c = u, .ldc = dv, .tri = -1, .cols = -1, .load = 1});
    // O = (Q ⊙ e^Γ) S + P V'.
    dr_gemm(level, &(dr_gemm_args){.m = n, .n = dv, .k = dk, .a = qe, .ars = dk, .acs = 1, .b = state, .ldb = dv,
                                   .c = out, .ldc = out_stride, .tri = -1, .cols = -1, .load = 0});
    dr_gemm(level, &(dr_gemm_args){.m = n, .n = dv, .k = n, .a = p, .ars = n, .acs = 1, .b = u, .ldb = dv,
                                   .c = out, .ldc = out_stride, .tri = 1, .cols = -1, .load = 1});
    // S ← e^{Γ_L} S + (K ⊙ e^{Γ_L−Γ})ᵀ V'.
    const float last = cum[n - 1], decay = expf(last);
    for (int64_t i = 0; i < n; i++) {
        const float e = expf(last - cum[i]);
        for (int64_t x = 0; x < dk; x++) kt[x * n + i] *= e;
    }
    for (int64_t i = 0; i < dk * dv; i++) state[i] *= decay;
    dr_gemm(level, &(dr_gemm_args){.m = dk, .n = dv, .k = n, .a = kt, .ars = n, .acs = 1, .b = u, .ldb = dv,
                                   .c = state, .ldc = dv, .tri = -1, .cols = -1, .load = 1});
    dr_fp_leave(mode);
    return 0;
}
