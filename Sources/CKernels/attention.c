// Causal grouped-query attention over an F32 KV cache, as llama.cpp computes it with flash attention off: per query
// head, scores = K·q · scale, softmax with max subtraction (Sparrow's own exponential, ck_attention_exp, and the sum
// in double over 8 lanes of positions), then the probability-weighted sum of V in position order. Work is handed out
// per (query row, head) through an atomic counter; each unit's arithmetic is fixed (it does not depend on the
// thread, the batch or the other rows), so the result is the same whatever runs beside it. Every q·k score is the
// plain sequential sum over the head's values (so the logits are bit-identical to the engine's earlier Swift loop);
// speed comes from computing 8 positions' sums side by side and from the pool, not from reordering a sum. This one C function is both the reference and
// the fast path (no FMA contraction: the target is built with -ffp-contract=off).
//
// The AVX2 path does the same arithmetic faster. Its unit of work is a (query row, KV head) pair: the K vectors of 8
// positions are transposed once into a small block (dimension-major), and every query head of the group then scores
// those 8 positions as 8 lanes of one vector, up to 4 heads side by side (independent chains hide the add latency);
// each lane still adds q[i]·k[i] for i = 0, 1, 2, … in order, so every score has the same bits as the portable path.
// The softmax takes 8 exponentials at a time (the scalar one's operations, lane for lane), and the weighted sum of V
// keeps each output value's sum in position order in registers, 64 values at a time, head by head. (Taking 16 values
// of 4 heads at a time, so that V is read twice per group of 8 instead of 8 times, measured 11 % faster with the
// cache in L3 and 12 % slower from memory, 2026-11-30, on Zen 4 forced onto this path: not taken.) The AVX-512 path
// (where the CPU has it) is the AVX2 path on 16 positions per vector: the K vectors of 16 positions transposed into
// one block, up to 8 query heads side by side, and the weighted sum of V 32 values of up to 8 heads at a time (each V
// value loaded once per KV head, not once per query head); its lanes run the same sequential sums, so its bits are
// the portable path's too.
// The tests compare every path bit for bit.
#include <math.h>
#include <stdatomic.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include "CKernels.h"
#include "ck_dot.h"

typedef struct {
    const sparrow_attention_row *rows;
    int64_t n_rows;
    int heads, kv_heads, head_dim;
    float scale;
    float *scratch;
    int64_t scratch_stride;  // floats per thread
    int64_t max_pos;         // the longest row's positions (score rows are this long)
    _Atomic int64_t next;
} ck_attention_job;

/// Floats from KV head h's vector of a position to head h + 1's in `row`'s cache.
static inline __attribute__((always_inline)) int64_t ck_attention_head_stride(const ck_attention_job *job,
                                                                             const sparrow_attention_row *row) {
    return row->kv_head_stride != 0 ? row->kv_head_stride : job->head_dim;
}

/// Query heads per KV head up to which the AVX2 path runs (larger groups take the portable path).
#define CK_ATTENTION_MAX_GROUP 64

/// Query rows one AVX-512 unit takes together (consecutive rows of one sequence, which read the same cache): each
/// 16-position block of K is transposed once for all of them, which is what prefill on top of a long cache spends
/// its time on otherwise.
#define CK_ATTENTION_ROWS_PER_UNIT 4

/// Positions ahead of the one being read from which the AVX2 and AVX-512 paths prefetch K and V vectors into L2.
/// Without it, a decode step streamed a cache from memory at about half the rate it computes on one held in cache:
/// the hardware prefetchers do not run ahead of a head's 512-byte vectors read one position at a time. Measured
/// 2026-11-30 (a throwaway loop over `sparrow_attention`, 8 layers' caches of 2,048 positions in 32-position
/// head-major pages, 2 threads, the code before and after linked side by side, taking turns in one process): AVX-512
/// 1 row 3.6-4.2 ms per step against 5.3-6.3, 8 rows 31.4-34.1 against 43-51; AVX2 5.7-6.0 against 7.6-8.4 and 47-48
/// against 56-59. 32 to 128 positions ahead measured alike; 8 to 16 ahead, or into L1, gained less than 10 %; one
/// layer held in cache took 0.28-0.31 ms either way.
#define CK_ATTENTION_PREFETCH_POSITIONS 64

/// Scores of 8 consecutive positions: each is the plain sequential sum Σ_i q[i]·k[i] (the order the engine always
/// used), but the 8 sums are independent chains, so they run side by side.
static inline __attribute__((always_inline)) void ck_attention_dot8(const float *q, const float *const *k, int64_t kv_offset, int d, float out[8]) {
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    const float *kp[8];
    for (int j = 0; j < 8; j++) kp[j] = k[j] + kv_offset;
    for (int i = 0; i < d; i++) {
        const float qi = q[i];
        for (int j = 0; j < 8; j++) acc[j] += qi * kp[j][i];
    }
    for (int j = 0; j < 8; j++) out[j] = acc[j];
}

/// One position's score, the same sequential sum.
static inline __attribute__((always_inline)) float ck_attention_dot(const float *q, const float *k, int d) {
    float acc = 0;
    for (int i = 0; i < d; i++) acc += q[i] * k[i];
    return acc;
}

// The softmax's exponential: Sparrow's own, not libm's expf, so that the SIMD paths compute 8 or 16 of them at once
// with the same bits as this scalar one (one libm expf per score was a third of the attention time of a prefill on
// top of a long cache). e^x = 2^n · e^r with n = round(x·log2 e), r = x − n·ln 2 in two steps (Cody-Waite: ln 2's
// high part has 8 zero low bits, so n·hi is exact for |n| ≤ 2^8), e^r by its Taylor polynomial of degree 7 (|r| ≤
// 0.347: truncation < 6e-9 relative, below half an ulp), 2^n put in the exponent bits. Every step is a fused
// multiply-add or a single rounding, the same in every path (fmaf here, vfmadd there). x below −87 gives 0 (the
// scores are at most 0 after the maximum is subtracted, and e^−87 ≈ 1.6e−38 is nothing beside the maximum's 1), a
// NaN gives NaN; x must not exceed 0 (above ~88 the exponent field would overflow).
#define CK_EXP_LOG2E 1.44269504088896341f
#define CK_EXP_ROUND 12582912.0f  // 1.5 · 2^23: x + this rounds x to an integer (for |x| < 2^22)
#define CK_EXP_LN2_HI 0.693145751953125f
#define CK_EXP_LN2_LO 1.42860682030941723e-6f
#define CK_EXP_FLOOR (-87.0f)

static const float ck_exp_taylor[8] = {1.0f / 5040.0f, 1.0f / 720.0f, 1.0f / 120.0f, 1.0f / 24.0f, 1.0f / 6.0f, 0.5f,
                                       1.0f, 1.0f};  // r^7/7! … r^0/0!, Horner order

static inline __attribute__((always_inline)) float ck_attention_exp(float x) {
    if (!(x >= CK_EXP_FLOOR)) return x != x ? x : 0.0f;  // a NaN score stays NaN, so it shows in the output
    const float n = fmaf(x, CK_EXP_LOG2E, CK_EXP_ROUND) - CK_EXP_ROUND;
    float r = fmaf(n, -CK_EXP_LN2_HI, x);
    r = fmaf(n, -CK_EXP_LN2_LO, r);
    float p = ck_exp_taylor[0];
    for (int k = 1; k < 8; k++) p = fmaf(p, r, ck_exp_taylor[k]);
    const uint32_t bits = (uint32_t)((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, 4);
    return p * scale;
}

float sparrow_attention_exp(float x) { return ck_attention_exp(x); }

/// Folds the 8 lane sums of the softmax's denominator in a fixed order.
static inline __attribute__((always_inline)) double ck_attention_fold8(const double lane[8]) {
    return ((lane[0] + lane[4]) + (lane[2] + lane[6])) + ((lane[1] + lane[5]) + (lane[3] + lane[7]));
}

/// Replaces s[t] by e^(s[t] − maximum) for t in t0 ..< n_pos, adding each to lane[t mod 8] in double, in position
/// order (t0 a multiple of 8, so that the SIMD paths can take the positions before it 8 at a time).
static inline __attribute__((always_inline)) void ck_attention_exp_lanes(float *s, int64_t t0, int64_t n_pos,
                                                                         float maximum, double lane[8]) {
    for (int64_t t = t0; t < n_pos; t++) {
        const float e = ck_attention_exp(s[t] - maximum);
        s[t] = e;
        lane[t & 7] += (double)e;
    }
}

/// Replaces s[t] by e^(s[t] − maximum) and returns the inverse of their sum, as a float: the sum in double, value t
/// added to lane t mod 8 in position order, the lanes folded by ck_attention_fold8 (the order the SIMD paths keep).
static inline __attribute__((always_inline)) float ck_attention_exp_sum(float *s, int64_t n_pos, float maximum) {
    double lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    ck_attention_exp_lanes(s, 0, n_pos, maximum, lane);
    return (float)(1.0 / ck_attention_fold8(lane));
}

static inline __attribute__((always_inline)) void ck_attention_unit(const ck_attention_job *job, const sparrow_attention_row *row, int head, float *scores) {
    const int d = job->head_dim;
    const int group = job->heads / job->kv_heads;
    const int64_t kv_offset = (int64_t)(head / group) * ck_attention_head_stride(job, row);
    const float *q = row->q + (int64_t)head * d;
    float maximum = -INFINITY;
    int64_t p = 0;
    for (; p + 8 <= row->n_pos; p += 8) {
        float dots[8];
        ck_attention_dot8(q, row->k + p, kv_offset, d, dots);
        for (int j = 0; j < 8; j++) {
            const float score = dots[j] * job->scale;
            scores[p + j] = score;
            if (score > maximum) maximum = score;
        }
    }
    for (; p < row->n_pos; p++) {
        const float score = ck_attention_dot(q, row->k[p] + kv_offset, d) * job->scale;
        scores[p] = score;
        if (score > maximum) maximum = score;
    }
    const float inverse = ck_attention_exp_sum(scores, row->n_pos, maximum);
    float *out = row->out + (int64_t)head * d;
    for (int i = 0; i < d; i++) out[i] = 0;
    for (p = 0; p < row->n_pos; p++) {
        const float weight = scores[p] * inverse;
        const float *v = row->v[p] + kv_offset;
        for (int i = 0; i < d; i++) out[i] += weight * v[i];
    }
}

/// Takes (row, head) units until none is left.
static inline __attribute__((always_inline)) void ck_attention_units(ck_attention_job *job, int ith) {
    float *scores = job->scratch + (int64_t)ith * job->scratch_stride;
    const int64_t units = job->n_rows * job->heads;
    for (;;) {
        const int64_t unit = atomic_fetch_add(&job->next, 1);
        if (unit >= units) return;
        ck_attention_unit(job, &job->rows[unit / job->heads], (int)(unit % job->heads), scores);
    }
}

// The same C compiled twice: for any x86-64, and with AVX2 and FMA enabled (wider vectors for the same lane-wise
// operations, fmaf as one instruction instead of libm's; with contraction off, every rounding is the same, so both
// give identical bits).
static void ck_attention_part(void *ctx, int ith, int nth) {
    (void)nth;
    ck_attention_units(ctx, ith);
}

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx2,fma"))) static void ck_attention_part_avx2(void *ctx, int ith, int nth) {
    (void)nth;
    ck_attention_units(ctx, ith);
}
#else
#define ck_attention_part_avx2 ck_attention_part
#endif

#if defined(__x86_64__) || defined(__i386__)
/// Prefetches into L2 the K vectors (`d` floats from `kv_offset`) of the `count` positions starting
/// CK_ATTENTION_PREFETCH_POSITIONS after `p`, when all of them are below `n_pos` (the table `k` holds).
static inline __attribute__((always_inline)) void ck_attention_prefetch_keys(const float *const *k, int64_t p,
                                                                            int count, int64_t n_pos,
                                                                            int64_t kv_offset, int d) {
    if (p + CK_ATTENTION_PREFETCH_POSITIONS + count > n_pos) return;
    for (int j = 0; j < count; j++) {
        const char *ahead = (const char *)(k[p + CK_ATTENTION_PREFETCH_POSITIONS + j] + kv_offset);
        for (int c = 0; c < d * (int)sizeof(float); c += 64) _mm_prefetch(ahead + c, _MM_HINT_T1);
    }
}

/// Prefetches into L2 `bytes` of the V vector of position `p` + CK_ATTENTION_PREFETCH_POSITIONS from float `offset`
/// on, when that position is below `n_pos`.
static inline __attribute__((always_inline)) void ck_attention_prefetch_values(const float *const *v, int64_t p,
                                                                              int64_t n_pos, int64_t offset,
                                                                              int bytes) {
    if (p + CK_ATTENTION_PREFETCH_POSITIONS >= n_pos) return;
    const char *ahead = (const char *)(v[p + CK_ATTENTION_PREFETCH_POSITIONS] + offset);
    for (int c = 0; c < bytes; c += 64) _mm_prefetch(ahead + c, _MM_HINT_T1);
}

/// Prefetches into L2 KV head `kv_head`'s K or V vectors (`kv`: `row->k` or `row->v`) of `row`'s positions 0 ..<
/// min(n_pos, CK_ATTENTION_PREFETCH_POSITIONS): the ones the running prefetches above never reach, since they start
/// that far ahead. The AVX2 path prefetches a unit's K and V when it starts; the AVX-512 path a unit's first K when it
/// starts, each run's V before its scores, and the next run's K (in decoding, the next sequence's cache) before this
/// run's weighted sums, so that each arrives while other work runs (all at once, the prefetches queued behind one
/// another and the gain halved). A decode step finds its short caches pushed out of L2 and L3 by the step's weights;
/// measured 2026-12-02 (`Benchmarks/attention-ab/run --cold 96`, 8 layers, AMD Zen 4, 2 threads): 8 rows of 32
/// positions 0.90-1.04 ms per step against 1.10-1.17 (7.6 -> 8.6-9.4 GB/s), of 64 positions 1.69 against 1.85, of 256
/// 5.68 against 6.06; 1 row and 2,048 positions the same within the noise; with the caches warm (held in L2/L3 from
/// step to step, which a decode step does not see) 3-4 % slower.
static inline __attribute__((always_inline)) void ck_attention_prefetch_start(const ck_attention_job *job,
                                                                             const sparrow_attention_row *row,
                                                                             const float *const *kv, int kv_head) {
    const int64_t offset = (int64_t)kv_head * ck_attention_head_stride(job, row);
    const int64_t n = row->n_pos < CK_ATTENTION_PREFETCH_POSITIONS ? row->n_pos : CK_ATTENTION_PREFETCH_POSITIONS;
    const int bytes = job->head_dim * (int)sizeof(float);
    for (int64_t p = 0; p < n; p++) {
        const char *start = (const char *)(kv[p] + offset);
        for (int c = 0; c < bytes; c += 64) _mm_prefetch(start + c, _MM_HINT_T1);
    }
}

/// The scores of 8 positions (their K transposed in `kt`: kt[i * 8 + j] = K[p + j][i]) for N query heads `q[h]`,
/// into scores[h][p .. p + 8]: lane j adds q[i]·K[p + j][i] for i in order, exactly as `ck_attention_dot8`.
static inline __attribute__((always_inline, target("avx2"))) void ck_attention_score8_avx2(
    int n, const float *const *q, const float *kt, int d, float scale, float *const *scores, int64_t p) {
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    for (int i = 0; i < d; i++) {
        const __m256 column = _mm256_load_ps(kt + (int64_t)i * 8);
        for (int h = 0; h < n; h++) acc[h] = _mm256_add_ps(acc[h], _mm256_mul_ps(_mm256_set1_ps(q[h][i]), column));
    }
    const __m256 scaling = _mm256_set1_ps(scale);
    for (int h = 0; h < n; h++) _mm256_storeu_ps(scores[h] + p, _mm256_mul_ps(acc[h], scaling));
}

/// Transposes the head-`kv_offset` K vectors of positions p .. p + 8 into kt: dimension i's 8 floats at
/// kt + i · stride (stride ≥ 8, a multiple of 8, kt 32-byte aligned).
static inline __attribute__((always_inline, target("avx2"))) void ck_attention_transpose8_strided_avx2(
    const float *const *k, int64_t p, int64_t kv_offset, int d, float *kt, int64_t stride) {
    int i = 0;
    for (; i + 8 <= d; i += 8) {
        __m256 r[8];
        for (int j = 0; j < 8; j++) r[j] = _mm256_loadu_ps(k[p + j] + kv_offset + i);
        const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
        const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
        const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
        const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
        const __m256 s0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
        const __m256 s1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
        const __m256 s2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
        const __m256 s3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
        const __m256 s4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0));
        const __m256 s5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2));
        const __m256 s6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0));
        const __m256 s7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));
        float *out = kt + (int64_t)i * stride;
        _mm256_store_ps(out + 0 * stride, _mm256_permute2f128_ps(s0, s4, 0x20));
        _mm256_store_ps(out + 1 * stride, _mm256_permute2f128_ps(s1, s5, 0x20));
        _mm256_store_ps(out + 2 * stride, _mm256_permute2f128_ps(s2, s6, 0x20));
        _mm256_store_ps(out + 3 * stride, _mm256_permute2f128_ps(s3, s7, 0x20));
        _mm256_store_ps(out + 4 * stride, _mm256_permute2f128_ps(s0, s4, 0x31));
        _mm256_store_ps(out + 5 * stride, _mm256_permute2f128_ps(s1, s5, 0x31));
        _mm256_store_ps(out + 6 * stride, _mm256_permute2f128_ps(s2, s6, 0x31));
        _mm256_store_ps(out + 7 * stride, _mm256_permute2f128_ps(s3, s7, 0x31));
    }
    for (; i < d; i++) {
        for (int j = 0; j < 8; j++) kt[(int64_t)i * stride + j] = k[p + j][kv_offset + i];
    }
}

/// Transposes the head-`kv_offset` K vectors of positions p .. p + 8 into kt (dimension-major, 8 floats per
/// dimension).
static inline __attribute__((always_inline, target("avx2"))) void ck_attention_transpose8_avx2(
    const float *const *k, int64_t p, int64_t kv_offset, int d, float *kt) {
    ck_attention_transpose8_strided_avx2(k, p, kv_offset, d, kt, 8);
}

/// out[i] = Σ_p weights[p] · V[p][i], each sum in position order from 0 (as the portable path adds into a zeroed
/// output), 64 values at a time in registers.
static inline __attribute__((always_inline, target("avx2"))) void ck_attention_weighted_sum_avx2(
    const float *weights, const float *const *v, int64_t n_pos, int64_t kv_offset, int d, float *out) {
    int i = 0;
    for (; i + 64 <= d; i += 64) {
        __m256 acc[8];
        for (int c = 0; c < 8; c++) acc[c] = _mm256_setzero_ps();
        for (int64_t p = 0; p < n_pos; p++) {
            ck_attention_prefetch_values(v, p, n_pos, kv_offset + i, 64 * (int)sizeof(float));
            const __m256 weight = _mm256_set1_ps(weights[p]);
            const float *vp = v[p] + kv_offset + i;
            for (int c = 0; c < 8; c++) acc[c] = _mm256_add_ps(acc[c], _mm256_mul_ps(weight, _mm256_loadu_ps(vp + 8 * c)));
        }
        for (int c = 0; c < 8; c++) _mm256_storeu_ps(out + i + 8 * c, acc[c]);
    }
    for (; i + 8 <= d; i += 8) {
        __m256 acc = _mm256_setzero_ps();
        for (int64_t p = 0; p < n_pos; p++) {
            acc = _mm256_add_ps(acc, _mm256_mul_ps(_mm256_set1_ps(weights[p]), _mm256_loadu_ps(v[p] + kv_offset + i)));
        }
        _mm256_storeu_ps(out + i, acc);
    }
    for (; i < d; i++) {
        float acc = 0;
        for (int64_t p = 0; p < n_pos; p++) acc += weights[p] * v[p][kv_offset + i];
        out[i] = acc;
    }
}

/// The scores of positions p0 ..< n_pos of one (row, KV head) unit for its `group` query heads, 8 positions at a
/// time through `kt` (8 × d floats, 32-byte aligned); the last 1-7 positions as a block of 8 whose missing positions
/// repeat the last one, into a buffer: each lane's arithmetic is the scalar dot's.
static inline __attribute__((always_inline, target("avx2"))) void ck_attention_scores8_avx2(
    const ck_attention_job *job, const sparrow_attention_row *row, int64_t kv_offset, int group,
    const float *const *q, float *const *scores, float *kt, int64_t p0) {
    const int d = job->head_dim;
    const int64_t n_pos = row->n_pos;
    int64_t p = p0;
    for (; p + 8 <= n_pos; p += 8) {
        ck_attention_prefetch_keys(row->k, p, 8, n_pos, kv_offset, d);
        ck_attention_transpose8_avx2(row->k, p, kv_offset, d, kt);
        int h = 0;
        for (; h + 4 <= group; h += 4) ck_attention_score8_avx2(4, q + h, kt, d, job->scale, scores + h, p);
        for (; h + 2 <= group; h += 2) ck_attention_score8_avx2(2, q + h, kt, d, job->scale, scores + h, p);
        for (; h < group; h++) ck_attention_score8_avx2(1, q + h, kt, d, job->scale, scores + h, p);
    }
    if (p < n_pos) {
        const float *tail[8];
        for (int j = 0; j < 8; j++) tail[j] = row->k[p + j < n_pos ? p + j : n_pos - 1];
        ck_attention_transpose8_avx2(tail, 0, kv_offset, d, kt);
        _Alignas(32) float block[CK_ATTENTION_MAX_GROUP][8];
        float *blocks[CK_ATTENTION_MAX_GROUP];
        for (int h = 0; h < group; h++) blocks[h] = block[h];
        int h = 0;
        for (; h + 4 <= group; h += 4) ck_attention_score8_avx2(4, q + h, kt, d, job->scale, blocks + h, 0);
        for (; h + 2 <= group; h += 2) ck_attention_score8_avx2(2, q + h, kt, d, job->scale, blocks + h, 0);
        for (; h < group; h++) ck_attention_score8_avx2(1, q + h, kt, d, job->scale, blocks + h, 0);
        for (h = 0; h < group; h++) {
            for (int64_t t = p; t < n_pos; t++) scores[h][t] = block[h][t - p];
        }
    }
}

/// ck_attention_exp on 8 lanes: the same operations, so the same bits.
static inline __attribute__((always_inline, target("avx2,fma"))) __m256 ck_attention_exp8(__m256 x) {
    const __m256 keep = _mm256_cmp_ps(x, _mm256_set1_ps(CK_EXP_FLOOR), _CMP_GE_OQ);
    const __m256 round = _mm256_set1_ps(CK_EXP_ROUND);
    const __m256 n = _mm256_sub_ps(_mm256_fmadd_ps(x, _mm256_set1_ps(CK_EXP_LOG2E), round), round);
    __m256 r = _mm256_fmadd_ps(n, _mm256_set1_ps(-CK_EXP_LN2_HI), x);
    r = _mm256_fmadd_ps(n, _mm256_set1_ps(-CK_EXP_LN2_LO), r);
    __m256 p = _mm256_set1_ps(ck_exp_taylor[0]);
    for (int k = 1; k < 8; k++) p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(ck_exp_taylor[k]));
    const __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    const __m256 value = _mm256_and_ps(_mm256_mul_ps(p, _mm256_castsi256_ps(bits)), keep);
    return _mm256_blendv_ps(value, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));  // NaN stays NaN, as in the scalar one
}

/// One head's scores turned into weights in place, as the portable path does: the maximum subtracted,
/// ck_attention_exp_sum's exponentials and lane sums 8 positions at a time, each value times the sum's inverse.
static inline __attribute__((always_inline, target("avx2,fma"))) void ck_attention_softmax(float *s, int64_t n_pos) {
    float maximum = -INFINITY;
    for (int64_t t = 0; t < n_pos; t++) {
        if (s[t] > maximum) maximum = s[t];
    }
    const __m256 m = _mm256_set1_ps(maximum);
    __m256d low = _mm256_setzero_pd(), high = _mm256_setzero_pd();  // lanes 0-3 and 4-7
    int64_t t = 0;
    for (; t + 8 <= n_pos; t += 8) {
        const __m256 e = ck_attention_exp8(_mm256_sub_ps(_mm256_loadu_ps(s + t), m));
        _mm256_storeu_ps(s + t, e);
        low = _mm256_add_pd(low, _mm256_cvtps_pd(_mm256_castps256_ps128(e)));
        high = _mm256_add_pd(high, _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1)));
    }
    double lane[8];
    _mm256_storeu_pd(lane, low);
    _mm256_storeu_pd(lane + 4, high);
    ck_attention_exp_lanes(s, t, n_pos, maximum, lane);  // the last 0-7 positions
    const float inverse = (float)(1.0 / ck_attention_fold8(lane));
    for (t = 0; t < n_pos; t++) s[t] = s[t] * inverse;
}

/// A unit's transposed-K block and score rows in its thread's scratch: kt (16 × d floats, rounded up to 8
/// dimensions) at the first 64-byte boundary (sparrow_attention_scratch_floats leaves 16 floats of slack), then
/// CK_ATTENTION_ROWS_PER_UNIT sets of score rows (one row of max_pos scores per query head of the group); `slot`
/// picks the set for `row`, and q[h], scores[h] are set for its heads. Returns kt.
static inline __attribute__((always_inline)) float *ck_attention_unit_scratch(
    const ck_attention_job *job, int kv_head, int group, const sparrow_attention_row *row, int64_t slot,
    float *scratch, const float **q, float **scores) {
    const int d = job->head_dim;
    float *kt = (float *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);
    float *score_rows = kt + (int64_t)16 * ((d + 7) / 8 * 8) + slot * group * job->max_pos;
    for (int h = 0; h < group; h++) {
        q[h] = row->q + (int64_t)(kv_head * group + h) * d;
        scores[h] = score_rows + (int64_t)h * job->max_pos;
    }
    return kt;
}

/// One (row, KV head) unit: every query head of the group, with the portable path's arithmetic.
__attribute__((target("avx2,fma"))) static void ck_attention_group_avx2(const ck_attention_job *job,
                                                                    const sparrow_attention_row *row, int kv_head,
                                                                    float *scratch) {
    const int d = job->head_dim;
    const int group = job->heads / job->kv_heads;
    const int64_t kv_offset = (int64_t)kv_head * ck_attention_head_stride(job, row);
    const float *q[CK_ATTENTION_MAX_GROUP];
    float *scores[CK_ATTENTION_MAX_GROUP];
    float *kt = ck_attention_unit_scratch(job, kv_head, group, row, 0, scratch, q, scores);
    ck_attention_prefetch_start(job, row, row->k, kv_head);
    ck_attention_prefetch_start(job, row, row->v, kv_head);
    ck_attention_scores8_avx2(job, row, kv_offset, group, q, scores, kt, 0);
    for (int h = 0; h < group; h++) {
        ck_attention_softmax(scores[h], row->n_pos);
        ck_attention_weighted_sum_avx2(scores[h], row->v, row->n_pos, kv_offset, d,
                                       row->out + (int64_t)(kv_head * group + h) * d);
    }
}

#define CK_ATTENTION_AVX512 __attribute__((target("avx512f,avx512vl,avx2,fma")))

/// The scores of 16 positions (K transposed in `kt`: kt[i * 16 + j] = K[p + j][i], 64-byte aligned) for N query
/// heads, as ck_attention_score8_avx2 on twice the lanes: lane j adds q[i]·K[p + j][i] for i in order.
static inline __attribute__((always_inline)) CK_ATTENTION_AVX512 void ck_attention_score16_avx512(
    int n, const float *const *q, const float *kt, int d, float scale, float *const *scores, int64_t p) {
    __m512 acc[8];
    for (int h = 0; h < n; h++) acc[h] = _mm512_setzero_ps();
    for (int i = 0; i < d; i++) {
        const __m512 column = _mm512_load_ps(kt + (int64_t)i * 16);
        for (int h = 0; h < n; h++) acc[h] = _mm512_add_ps(acc[h], _mm512_mul_ps(_mm512_set1_ps(q[h][i]), column));
    }
    const __m512 scaling = _mm512_set1_ps(scale);
    for (int h = 0; h < n; h++) _mm512_storeu_ps(scores[h] + p, _mm512_mul_ps(acc[h], scaling));
}

/// Dimensions i .. i + 32 of out[h][i] = Σ_p weights[h][p] · V[p][i] for H query heads of one KV head: each V value
/// loaded once for all H heads, each sum still in position order from 0 (the bits of ck_attention_weighted_sum_avx2).
static inline __attribute__((always_inline)) CK_ATTENTION_AVX512 void ck_attention_weighted_sums32_avx512(
    const int H, const float *const *weights, const float *const *v, int64_t n_pos, int64_t kv_offset, int i,
    float *const *out) {
    __m512 acc[8][2];
    for (int h = 0; h < H; h++) acc[h][0] = acc[h][1] = _mm512_setzero_ps();
    for (int64_t p = 0; p < n_pos; p++) {
        const float *vp = v[p] + kv_offset + i;
        ck_attention_prefetch_values(v, p, n_pos, kv_offset + i, 32 * (int)sizeof(float));
        const __m512 a = _mm512_loadu_ps(vp), b = _mm512_loadu_ps(vp + 16);
        for (int h = 0; h < H; h++) {
            const __m512 weight = _mm512_set1_ps(weights[h][p]);
            acc[h][0] = _mm512_add_ps(acc[h][0], _mm512_mul_ps(weight, a));
            acc[h][1] = _mm512_add_ps(acc[h][1], _mm512_mul_ps(weight, b));
        }
    }
    for (int h = 0; h < H; h++) {
        _mm512_storeu_ps(out[h] + i, acc[h][0]);
        _mm512_storeu_ps(out[h] + i + 16, acc[h][1]);
    }
}

/// out[h][i] = Σ_p weights[h][p] · V[p][i] for the `n` query heads of one KV head, with the bits of
/// ck_attention_weighted_sum_avx2 head by head. Head by head (as before), each head streamed all of V (1 MB per KV
/// head at 2048 positions of 128 F32 values), which does not stay in L2, so a group of 8 heads read it 8 times from
/// L3 or memory and waited on it (two thirds of attention's time in a decode step at depth 2048, 2026-11-30). Here 32
/// dimensions of up to 8 heads go together: every V value is loaded once per row for each 8 heads of the group. The
/// dimensions past the last multiple of 32 go head by head through the AVX2 version.
static inline __attribute__((always_inline)) CK_ATTENTION_AVX512 void ck_attention_weighted_sums_avx512(
    int n, const float *const *weights, const float *const *v, int64_t n_pos, int64_t kv_offset, int d,
    float *const *out) {
    int i = 0;
    for (; i + 32 <= d; i += 32) {
        for (int h0 = 0; h0 < n; h0 += 8) {
            switch (n - h0 < 8 ? n - h0 : 8) {
            case 1: ck_attention_weighted_sums32_avx512(1, weights + h0, v, n_pos, kv_offset, i, out + h0); break;
            case 2: ck_attention_weighted_sums32_avx512(2, weights + h0, v, n_pos, kv_offset, i, out + h0); break;
            case 3: ck_attention_weighted_sums32_avx512(3, weights + h0, v, n_pos, kv_offset, i, out + h0); break;
            case 4: ck_attention_weighted_sums32_avx512(4, weights + h0, v, n_pos, kv_offset, i, out + h0); break;
            case 5: ck_attention_weighted_sums32_avx512(5, weights + h0, v, n_pos, kv_offset, i, out + h0); break;
            case 6: ck_attention_weighted_sums32_avx512(6, weights + h0, v, n_pos, kv_offset, i, out + h0); break;
            case 7: ck_attention_weighted_sums32_avx512(7, weights + h0, v, n_pos, kv_offset, i, out + h0); break;
            default: ck_attention_weighted_sums32_avx512(8, weights + h0, v, n_pos, kv_offset, i, out + h0); break;
            }
        }
    }
    if (i < d) {
        for (int h = 0; h < n; h++) {
            ck_attention_weighted_sum_avx2(weights[h], v, n_pos, kv_offset + i, d - i, out[h] + i);
        }
    }
}

__attribute__((target("avx2,fma"))) static void ck_attention_groups_avx2(void *ctx, int ith, int nth) {
    (void)nth;
    ck_attention_job *job = ctx;
    float *scratch = job->scratch + (int64_t)ith * job->scratch_stride;
    const int64_t units = job->n_rows * job->kv_heads;
    for (;;) {
        const int64_t unit = atomic_fetch_add(&job->next, 1);
        if (unit >= units) return;
        ck_attention_group_avx2(job, &job->rows[unit / job->kv_heads], (int)(unit % job->kv_heads), scratch);
    }
}

/// Rows r0 ..< r1 (1 to CK_ATTENTION_ROWS_PER_UNIT, all reading the same K and V) for one KV head on AVX-512: 16
/// positions per block with up to 8 query heads side by side, each row's last 0-15 positions through the AVX2 blocks;
/// every row gets the bits ck_attention_group_avx2 gives it alone.
CK_ATTENTION_AVX512 static void ck_attention_rows_avx512(const ck_attention_job *job, int64_t r0, int64_t r1,
                                                        int kv_head, const sparrow_attention_row *next,
                                                        float *scratch) {
    const int d = job->head_dim;
    const int group = job->heads / job->kv_heads;
    const int64_t kv_offset = (int64_t)kv_head * ck_attention_head_stride(job, &job->rows[r0]);  // rows r0..<r1 share K
    const float *q[CK_ATTENTION_ROWS_PER_UNIT][CK_ATTENTION_MAX_GROUP];
    float *scores[CK_ATTENTION_ROWS_PER_UNIT][CK_ATTENTION_MAX_GROUP];
    float *kt = NULL;
    int64_t longest = 0;
    for (int64_t r = r0; r < r1; r++) {
        const sparrow_attention_row *row = &job->rows[r];
        kt = ck_attention_unit_scratch(job, kv_head, group, row, r - r0, scratch, q[r - r0], scores[r - r0]);
        if (row->n_pos > longest) longest = row->n_pos;
    }
    const sparrow_attention_row *first = &job->rows[r0];
    ck_attention_prefetch_start(job, first, first->v, kv_head);  // arrives while the scores are computed
    for (int64_t p = 0; p + 16 <= longest; p += 16) {
        ck_attention_prefetch_keys(first->k, p, 16, longest, kv_offset, d);
        ck_attention_transpose8_strided_avx2(first->k, p, kv_offset, d, kt, 16);
        ck_attention_transpose8_strided_avx2(first->k, p + 8, kv_offset, d, kt + 8, 16);
        for (int64_t r = r0; r < r1; r++) {
            if (p + 16 > job->rows[r].n_pos) continue;
            const float *const *qr = q[r - r0];
            float *const *sr = scores[r - r0];
            int h = 0;
            for (; h + 8 <= group; h += 8) ck_attention_score16_avx512(8, qr + h, kt, d, job->scale, sr + h, p);
            for (; h + 4 <= group; h += 4) ck_attention_score16_avx512(4, qr + h, kt, d, job->scale, sr + h, p);
            for (; h + 2 <= group; h += 2) ck_attention_score16_avx512(2, qr + h, kt, d, job->scale, sr + h, p);
            for (; h < group; h++) ck_attention_score16_avx512(1, qr + h, kt, d, job->scale, sr + h, p);
        }
    }
    if (next != NULL) ck_attention_prefetch_start(job, next, next->k, kv_head);  // arrives during the sums below
    for (int64_t r = r0; r < r1; r++) {
        const sparrow_attention_row *row = &job->rows[r];
        ck_attention_scores8_avx2(job, row, kv_offset, group, q[r - r0], scores[r - r0], kt, row->n_pos / 16 * 16);
        float *out[CK_ATTENTION_MAX_GROUP];
        for (int h = 0; h < group; h++) {
            ck_attention_softmax(scores[r - r0][h], row->n_pos);
            out[h] = row->out + (int64_t)(kv_head * group + h) * d;
        }
        ck_attention_weighted_sums_avx512(group, (const float *const *)scores[r - r0], row->v, row->n_pos, kv_offset,
                                          d, out);
    }
}

/// Units of (up to CK_ATTENTION_ROWS_PER_UNIT consecutive rows, KV head); within a unit, runs of rows reading the
/// same K and V go together.
CK_ATTENTION_AVX512 static void ck_attention_groups_avx512(void *ctx, int ith, int nth) {
    (void)nth;
    ck_attention_job *job = ctx;
    float *scratch = job->scratch + (int64_t)ith * job->scratch_stride;
    const int64_t blocks = (job->n_rows + CK_ATTENTION_ROWS_PER_UNIT - 1) / CK_ATTENTION_ROWS_PER_UNIT;
    const int64_t units = blocks * job->kv_heads;
    for (;;) {
        const int64_t unit = atomic_fetch_add(&job->next, 1);
        if (unit >= units) return;
        const int kv_head = (int)(unit % job->kv_heads);
        const int64_t start = unit / job->kv_heads * CK_ATTENTION_ROWS_PER_UNIT;
        const int64_t stop = start + CK_ATTENTION_ROWS_PER_UNIT < job->n_rows ? start + CK_ATTENTION_ROWS_PER_UNIT : job->n_rows;
        ck_attention_prefetch_start(job, &job->rows[start], job->rows[start].k, kv_head);
        for (int64_t r0 = start; r0 < stop;) {
            int64_t r1 = r0 + 1;
            while (r1 < stop && job->rows[r1].k == job->rows[r0].k && job->rows[r1].v == job->rows[r0].v &&
                   job->rows[r1].kv_head_stride == job->rows[r0].kv_head_stride) {
                r1++;
            }
            ck_attention_rows_avx512(job, r0, r1, kv_head, r1 < stop ? &job->rows[r1] : NULL, scratch);
            r0 = r1;
        }
    }
}
#endif

int64_t sparrow_attention_scratch_floats(int heads, int kv_heads, int head_dim, int64_t max_pos) {
    if (heads <= 0 || kv_heads <= 0 || head_dim <= 0 || max_pos < 0) return 0;
    const int64_t group = heads / kv_heads > 0 ? heads / kv_heads : 1;
    const int64_t block = (int64_t)16 * ((head_dim + 7) / 8 * 8);
    // 16 floats of slack to align the transposed block to 64 bytes; score rows for the rows an AVX-512 unit takes.
    return 16 + block + CK_ATTENTION_ROWS_PER_UNIT * group * max_pos;
}

/// Which path `ck_attention` takes: the fastest the CPU has, the portable reference, or the AVX2 one (tests).
enum { CK_ATTENTION_FASTEST, CK_ATTENTION_PORTABLE, CK_ATTENTION_AVX2 };

static int ck_attention(sparrow_pool *pool, const sparrow_attention_row *rows, int64_t n_rows, int heads,
                        int kv_heads, int head_dim, float *scratch, int64_t max_pos, int path) {
    const int portable = path == CK_ATTENTION_PORTABLE;
    if (n_rows < 0 || heads <= 0 || kv_heads <= 0 || heads % kv_heads != 0 || head_dim <= 0) {
        return -1;
    }
    for (int64_t r = 0; r < n_rows; r++) {
        if (rows[r].n_pos <= 0 || rows[r].n_pos > max_pos) return -1;
        if (rows[r].kv_head_stride != 0 && rows[r].kv_head_stride < head_dim) return -1;  // heads would overlap
    }
    const int64_t stride = sparrow_attention_scratch_floats(heads, kv_heads, head_dim, max_pos);
    ck_attention_job job = {rows, n_rows, heads, kv_heads, head_dim, 1.0f / sqrtf((float)head_dim), scratch,
                            stride, max_pos, 0};
#if defined(__x86_64__) || defined(__i386__)
    if (path == CK_ATTENTION_AVX2 && !ck_has_avx2()) return -2;
    if (!portable && ck_has_avx2() && heads / kv_heads <= CK_ATTENTION_MAX_GROUP) {
        const int avx512 = path == CK_ATTENTION_FASTEST && ck_has_avx512();
        sparrow_pool_run(pool, avx512 ? ck_attention_groups_avx512 : ck_attention_groups_avx2, &job);
        return 0;
    }
#else
    if (path == CK_ATTENTION_AVX2) return -2;
#endif
    sparrow_pool_run(pool, portable ? ck_attention_part : (ck_has_avx2() ? ck_attention_part_avx2 : ck_attention_part), &job);
    return 0;
}

int sparrow_attention(sparrow_pool *pool, const sparrow_attention_row *rows, int64_t n_rows, int heads, int kv_heads,
                      int head_dim, float *scratch, int64_t max_pos) {
    return ck_attention(pool, rows, n_rows, heads, kv_heads, head_dim, scratch, max_pos, CK_ATTENTION_FASTEST);
}

int sparrow_attention_avx2(sparrow_pool *pool, const sparrow_attention_row *rows, int64_t n_rows, int heads,
                           int kv_heads, int head_dim, float *scratch, int64_t max_pos) {
    return ck_attention(pool, rows, n_rows, heads, kv_heads, head_dim, scratch, max_pos, CK_ATTENTION_AVX2);
}

int sparrow_attention_portable(sparrow_pool *pool, const sparrow_attention_row *rows, int64_t n_rows, int heads,
                               int kv_heads, int head_dim, float *scratch, int64_t max_pos) {
    return ck_attention(pool, rows, n_rows, heads, kv_heads, head_dim, scratch, max_pos, CK_ATTENTION_PORTABLE);
}
