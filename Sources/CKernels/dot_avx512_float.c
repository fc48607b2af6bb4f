// AVX-512 multi-row kernel for F32 weights against 1…8 f32 activation rows (the MoE router of a batched decode step or
// a prefill: 128 or 512 weight rows read by every token). The single-row kernel (dot_avx2_float.c) converts both
// operands to double for every product, so a batch of rows was bound by the conversions, not by the weights' bytes;
// here each weight value is converted once for all the rows. Each row keeps the single-row kernel's arithmetic: its
// 16 double lanes a0..a3 (elements i..i+15 of a 16-value step) are the two zmm accumulators [a0 a1] and [a2 a3], each
// lane a product of exact doubles added in the same order, folded as (a0 + a2) + (a1 + a3), then the halves, then the
// tail in order, so every output equals the scalar reference bit for bit.
#include "ck_avx2.h"
#include "ck_avx512.h"

#if defined(__x86_64__) || defined(__i386__)

static inline __attribute__((always_inline)) CK_AVX512 void
ck_dotn_f32_rows(int64_t n, const float *w, const void *vx, size_t x_stride, int count, float *out) {
    __m512d lo[CK_DOTN_MAX], hi[CK_DOTN_MAX];
    for (int k = 0; k < count; k++) lo[k] = hi[k] = _mm512_setzero_pd();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        ck_prefetch(w + i, 64);
        const __m512d w0 = _mm512_cvtps_pd(_mm256_loadu_ps(w + i)), w1 = _mm512_cvtps_pd(_mm256_loadu_ps(w + i + 8));
        _Pragma("clang loop unroll(full)") for (int k = 0; k < count; k++) {
            const float *x = (const float *)((const uint8_t *)vx + (size_t)k * x_stride);
            lo[k] = _mm512_add_pd(lo[k], _mm512_mul_pd(w0, _mm512_cvtps_pd(_mm256_loadu_ps(x + i))));
            hi[k] = _mm512_add_pd(hi[k], _mm512_mul_pd(w1, _mm512_cvtps_pd(_mm256_loadu_ps(x + i + 8))));
        }
    }
    _Pragma("clang loop unroll(full)") for (int k = 0; k < count; k++) {
        const float *x = (const float *)((const uint8_t *)vx + (size_t)k * x_stride);
        const __m512d s = _mm512_add_pd(lo[k], hi[k]);  // [a0 + a2, a1 + a3]
        const __m256d c = _mm256_add_pd(_mm512_castpd512_pd256(s), _mm512_extractf64x4_pd(s, 1));
        const __m128d d = _mm_add_pd(_mm256_castpd256_pd128(c), _mm256_extractf128_pd(c, 1));
        double sum = _mm_cvtsd_f64(d) + _mm_cvtsd_f64(_mm_unpackhi_pd(d, d));
        for (int64_t j = i; j < n; j++) sum += (double)w[j] * (double)x[j];
        out[k] = (float)sum;
    }
}

// Each count a constant, so the row loop unrolls and the accumulators stay in registers.
CK_AVX512 void ck_dotn_f32_avx512(int64_t n, const void *w, const void *x, size_t x_stride, int count, float *out) {
    switch (count) {
    case 1: ck_dotn_f32_rows(n, w, x, x_stride, 1, out); return;
    case 2: ck_dotn_f32_rows(n, w, x, x_stride, 2, out); return;
    case 3: ck_dotn_f32_rows(n, w, x, x_stride, 3, out); return;
    case 4: ck_dotn_f32_rows(n, w, x, x_stride, 4, out); return;
    case 5: ck_dotn_f32_rows(n, w, x, x_stride, 5, out); return;
    case 6: ck_dotn_f32_rows(n, w, x, x_stride, 6, out); return;
    case 7: ck_dotn_f32_rows(n, w, x, x_stride, 7, out); return;
    default: ck_dotn_f32_rows(n, w, x, x_stride, CK_DOTN_MAX, out); return;  // count is 1…CK_DOTN_MAX
    }
}

#else

void ck_dotn_f32_avx512(int64_t n, const void *w, const void *x, size_t x_stride, int count, float *out) {
    (void)n; (void)w; (void)x; (void)x_stride; (void)count; (void)out;
}

#endif
