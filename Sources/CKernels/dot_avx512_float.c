// AVX-512 multi-row kernel for F32 weights: up to 16 weight rows against 1…8 f32 activation rows (the MoE router of a
// batched decode step or a prefill: 128 or 512 weight rows read by every token). The single-row kernel
// (dot_avx2_float.c) converts both operands to double for every product, so a batch of rows was bound by the
// conversions, not by the weights' bytes; here each weight value is converted once for all the activation rows, and
// the activations once per chunk for all the weight rows. Each output keeps the single-row kernel's arithmetic: its 16
// double lanes a0..a3 (elements i..i+15 of a 16-value step) are the two zmm accumulators [a0 a1] and [a2 a3], each
// lane a product of exact doubles added in the same order, folded as (a0 + a2) + (a1 + a3), then the halves, then the
// tail in order, so every output equals the scalar reference bit for bit. A lane's step is one fused multiply-add: the
// product of two floats is exact in double (24 + 24 significant bits), so fma(w, x, a), which rounds w·x + a once,
// equals a + w·x with the product made first. (Measured 2026-12-01, qwen3moe's 128 × 2048 router, 8 activation rows,
// 2 threads, a throwaway loop: 53.6 µs a call against 60.4 with the multiply and the add apart; 76 against 85 with the
// weights evicted from L2 before each call.)
#include "ck_avx2.h"
#include "ck_avx512.h"

#if defined(__x86_64__) || defined(__i386__)

/// Columns of the activation rows converted to double at a time by ck_dotn_f32_rows_avx512 (8 rows: 16 KB).
/// Measured 2026-11-30 (a throwaway loop: 8 layers' 512 × 2048 F32 routers, qwen3next's, 8 activation rows, 2
/// threads): 2.36-2.38 ms per step against 3.03-3.05 when the activations were converted once per weight row; 0.23
/// against 0.37 ms for one router held in cache; 128-expert routers (qwen3moe) 0.47 against 0.75. Prefetching each
/// row 1-4 chunks ahead into L2 measured alike (2.36-2.46); the row kernels' L1 prefetch 4 KB ahead 2.55-2.59, none
/// 2.85-2.89.
#define CK_F32_CHUNK 256

/// `xd`: the chunk's activations as doubles; `acc`: per weight row and activation row, the lanes [a0 a1] and [a2 a3],
/// kept across chunks (both the caller's, so that the inlined copies of an unoptimised build share one 32 KB frame
/// instead of taking 32 KB each).
static inline __attribute__((always_inline)) CK_AVX512 void
ck_f32_rows(int64_t n, const void *w, size_t w_row_bytes, int rows, const void *vx, size_t x_stride, const int count,
            float *y, size_t y_stride, double (*xd)[CK_F32_CHUNK], __m512d (*acc)[CK_DOTN_MAX][2]) {
    const int64_t whole = n / 16 * 16;
    for (int r = 0; r < rows; r++) {
        for (int k = 0; k < count; k++) acc[r][k][0] = acc[r][k][1] = _mm512_setzero_pd();
    }
    for (int64_t c0 = 0; c0 < whole; c0 += CK_F32_CHUNK) {
        const int64_t width = whole - c0 < CK_F32_CHUNK ? whole - c0 : CK_F32_CHUNK;
        for (int k = 0; k < count; k++) {  // exact: every float is a double
            const float *x = (const float *)((const uint8_t *)vx + (size_t)k * x_stride) + c0;
            for (int64_t i = 0; i < width; i += 8) _mm512_store_pd(xd[k] + i, _mm512_cvtps_pd(_mm256_loadu_ps(x + i)));
        }
        for (int r = 0; r < rows; r++) {
            const float *wr = (const float *)((const uint8_t *)w + (size_t)r * w_row_bytes) + c0;
            __m512d lo[CK_DOTN_MAX], hi[CK_DOTN_MAX];
            for (int k = 0; k < count; k++) {
                lo[k] = acc[r][k][0];
                hi[k] = acc[r][k][1];
            }
            for (int64_t i = 0; i < width; i += 16) {
                // The row's part two chunks on, into L2 (the next chunks of the other rows come between).
                _mm_prefetch((const char *)(wr + i + 2 * CK_F32_CHUNK), _MM_HINT_T1);
                const __m512d w0 = _mm512_cvtps_pd(_mm256_loadu_ps(wr + i));
                const __m512d w1 = _mm512_cvtps_pd(_mm256_loadu_ps(wr + i + 8));
                _Pragma("clang loop unroll(full)") for (int k = 0; k < count; k++) {
                    lo[k] = _mm512_fmadd_pd(w0, _mm512_load_pd(xd[k] + i), lo[k]);
                    hi[k] = _mm512_fmadd_pd(w1, _mm512_load_pd(xd[k] + i + 8), hi[k]);
                }
            }
            for (int k = 0; k < count; k++) {
                acc[r][k][0] = lo[k];
                acc[r][k][1] = hi[k];
            }
        }
    }
    for (int r = 0; r < rows; r++) {
        const float *wr = (const float *)((const uint8_t *)w + (size_t)r * w_row_bytes);
        for (int k = 0; k < count; k++) {  // the fold, then the tail in order
            const float *x = (const float *)((const uint8_t *)vx + (size_t)k * x_stride);
            const __m512d s = _mm512_add_pd(acc[r][k][0], acc[r][k][1]);
            const __m256d c = _mm256_add_pd(_mm512_castpd512_pd256(s), _mm512_extractf64x4_pd(s, 1));
            const __m128d d = _mm_add_pd(_mm256_castpd256_pd128(c), _mm256_extractf128_pd(c, 1));
            double sum = _mm_cvtsd_f64(d) + _mm_cvtsd_f64(_mm_unpackhi_pd(d, d));
            for (int64_t j = whole; j < n; j++) sum += (double)wr[j] * (double)x[j];
            y[(size_t)k * y_stride + (size_t)r] = (float)sum;
        }
    }
}

// Each count a constant, so the accumulators of a weight row stay in registers.
CK_AVX512 void ck_dotn_f32_rows_avx512(int64_t n, const void *w, size_t w_row_bytes, int rows, const void *x,
                                       size_t x_stride, int count, float *y, size_t y_stride) {
    _Alignas(64) double xd[CK_DOTN_MAX][CK_F32_CHUNK];
    __m512d acc[CK_ROWS_PER_F32_TILE][CK_DOTN_MAX][2];
    switch (count) {
    case 1: ck_f32_rows(n, w, w_row_bytes, rows, x, x_stride, 1, y, y_stride, xd, acc); return;
    case 2: ck_f32_rows(n, w, w_row_bytes, rows, x, x_stride, 2, y, y_stride, xd, acc); return;
    case 3: ck_f32_rows(n, w, w_row_bytes, rows, x, x_stride, 3, y, y_stride, xd, acc); return;
    case 4: ck_f32_rows(n, w, w_row_bytes, rows, x, x_stride, 4, y, y_stride, xd, acc); return;
    case 5: ck_f32_rows(n, w, w_row_bytes, rows, x, x_stride, 5, y, y_stride, xd, acc); return;
    case 6: ck_f32_rows(n, w, w_row_bytes, rows, x, x_stride, 6, y, y_stride, xd, acc); return;
    case 7: ck_f32_rows(n, w, w_row_bytes, rows, x, x_stride, 7, y, y_stride, xd, acc); return;
    default: ck_f32_rows(n, w, w_row_bytes, rows, x, x_stride, CK_DOTN_MAX, y, y_stride, xd, acc); return;  // ≤ 8
    }
}

/// One weight row: the same kernel, so `sparrow_vec_dotn` (a single weight row against a tile) gives a batch's bits.
CK_AVX512 void ck_dotn_f32_avx512(int64_t n, const void *w, const void *x, size_t x_stride, int count, float *out) {
    ck_dotn_f32_rows_avx512(n, w, 0, 1, x, x_stride, count, out, 1);
}

#else

void ck_dotn_f32_rows_avx512(int64_t n, const void *w, size_t w_row_bytes, int rows, const void *vx,
                             size_t x_stride, int count, float *y, size_t y_stride) {
    (void)n; (void)w; (void)w_row_bytes; (void)rows; (void)vx; (void)x_stride; (void)count; (void)y; (void)y_stride;
}

void ck_dotn_f32_avx512(int64_t n, const void *w, const void *x, size_t x_stride, int count, float *out) {
    (void)n; (void)w; (void)x; (void)x_stride; (void)count; (void)out;
}

#endif
