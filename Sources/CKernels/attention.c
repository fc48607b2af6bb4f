// Causal grouped-query attention over an F32 KV cache, as llama.cpp computes it with flash attention off: per query
// head, scores = K·q · scale, softmax with max subtraction (the sum in double, in position order), then the
// probability-weighted sum of V in position order. Work is handed out per (query row, head) through an atomic
// counter; each unit's arithmetic is fixed (it does not depend on the thread, the batch or the other rows), so the
// result is the same whatever runs beside it. Every q·k score is the plain sequential sum over the head's values
// (so the logits are bit-identical to the engine's earlier Swift loop); speed comes from computing 8 positions'
// sums side by side and from the pool, not from reordering a sum. This one C function is both the reference and
// the fast path (no FMA contraction: the target is built with -ffp-contract=off).
#include <math.h>
#include <stdatomic.h>

#include "CKernels.h"
#include "ck_dot.h"

typedef struct {
    const sparrow_attention_row *rows;
    int64_t n_rows;
    int heads, kv_heads, head_dim;
    float scale;
    float *scratch;
    int64_t scratch_stride;
    _Atomic int64_t next;
} ck_attention_job;

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

static inline __attribute__((always_inline)) void ck_attention_unit(const ck_attention_job *job, const sparrow_attention_row *row, int head, float *scores) {
    const int d = job->head_dim;
    const int group = job->heads / job->kv_heads;
    const int64_t kv_offset = (int64_t)(head / group) * d;
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
    double sum = 0;
    for (p = 0; p < row->n_pos; p++) {
        const float e = expf(scores[p] - maximum);
        scores[p] = e;
        sum += (double)e;
    }
    const float inverse = (float)(1.0 / sum);
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

// The same C compiled twice: for any x86-64, and with AVX2 enabled (wider vectors for the same lane-wise
// operations; with contraction off, every rounding is the same, so both give identical bits).
static void ck_attention_part(void *ctx, int ith, int nth) {
    (void)nth;
    ck_attention_units(ctx, ith);
}

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx2"))) static void ck_attention_part_avx2(void *ctx, int ith, int nth) {
    (void)nth;
    ck_attention_units(ctx, ith);
}
#else
#define ck_attention_part_avx2 ck_attention_part
#endif

int sparrow_attention(sparrow_pool *pool, const sparrow_attention_row *rows, int64_t n_rows, int heads, int kv_heads,
                      int head_dim, float *scratch, int64_t scratch_stride) {
    if (n_rows < 0 || heads <= 0 || kv_heads <= 0 || heads % kv_heads != 0 || head_dim <= 0) {
        return -1;
    }
    for (int64_t r = 0; r < n_rows; r++) {
        if (rows[r].n_pos <= 0 || rows[r].n_pos > scratch_stride) return -1;
    }
    ck_attention_job job = {rows, n_rows, heads, kv_heads, head_dim, 1.0f / sqrtf((float)head_dim), scratch,
                            scratch_stride, 0};
    sparrow_pool_run(pool, ck_has_avx2() ? ck_attention_part_avx2 : ck_attention_part, &job);
    return 0;
}
