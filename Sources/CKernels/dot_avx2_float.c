// AVX2 row kernels for float weights (F32, F16 via F16C, BF16) against f32 activations, in the reference's order:
// 16 double lanes as four 4-lane vectors, folded like ck_fold16, then the tail in order. Float products are exact in
// double, so only the additions round, in the same order as dot_scalar.c: the results are identical.
#include "ck_avx2.h"

#if defined(__x86_64__) || defined(__i386__)

/// acc += w·x for four floats, widened to double.
static inline CK_AVX2 __m256d ck_madd4(__m256d acc, __m128 w, __m128 x) {
    return _mm256_add_pd(acc, _mm256_mul_pd(_mm256_cvtps_pd(w), _mm256_cvtps_pd(x)));
}

static inline CK_AVX2 __m256 ck_w8_f32(const uint8_t *w, int64_t i) {
    return _mm256_loadu_ps((const float *)(w + 4 * i));
}

static inline CK_AVX2 __m256 ck_w8_f16(const uint8_t *w, int64_t i) {
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w + 2 * i)));
}

static inline CK_AVX2 __m256 ck_w8_bf16(const uint8_t *w, int64_t i) {
    const __m256i wide = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(w + 2 * i)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
}

static inline float ck_w1_f32(const uint8_t *w, int64_t i) {
    float f;
    memcpy(&f, w + 4 * i, 4);
    return f;
}

static inline float ck_w1_f16(const uint8_t *w, int64_t i) { return ck_half(w + 2 * i); }

static inline float ck_w1_bf16(const uint8_t *w, int64_t i) {
    const uint32_t bits = (uint32_t)ck_u16(w + 2 * i) << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

#define CK_FLOAT_AVX2(name, load8, load1, width)                                                                  \
    CK_AVX2 float name(int64_t n, const void *vw, const void *vx) {                                              \
        const uint8_t *w = vw;                                                                                  \
        const float *x = vx;                                                                                    \
        __m256d a0 = _mm256_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;                                            \
        int64_t i = 0;                                                                                          \
        for (; i + 16 <= n; i += 16) {                                                                          \
            ck_prefetch(w + (width) * i, 16 * (width));                                                         \
            const __m256 w0 = load8(w, i), w1 = load8(w, i + 8);                                                \
            const __m256 x0 = _mm256_loadu_ps(x + i), x1 = _mm256_loadu_ps(x + i + 8);                          \
            a0 = ck_madd4(a0, _mm256_castps256_ps128(w0), _mm256_castps256_ps128(x0));                          \
            a1 = ck_madd4(a1, _mm256_extractf128_ps(w0, 1), _mm256_extractf128_ps(x0, 1));                      \
            a2 = ck_madd4(a2, _mm256_castps256_ps128(w1), _mm256_castps256_ps128(x1));                          \
            a3 = ck_madd4(a3, _mm256_extractf128_ps(w1, 1), _mm256_extractf128_ps(x1, 1));                      \
        }                                                                                                       \
        const __m256d c = _mm256_add_pd(_mm256_add_pd(a0, a2), _mm256_add_pd(a1, a3));                          \
        const __m128d d = _mm_add_pd(_mm256_castpd256_pd128(c), _mm256_extractf128_pd(c, 1));                   \
        double sum = _mm_cvtsd_f64(d) + _mm_cvtsd_f64(_mm_unpackhi_pd(d, d));                                   \
        for (; i < n; i++) sum += (double)load1(w, i) * (double)x[i];                                           \
        return (float)sum;                                                                                      \
    }

CK_FLOAT_AVX2(ck_dot_f32_avx2, ck_w8_f32, ck_w1_f32, 4)
CK_FLOAT_AVX2(ck_dot_f16_avx2, ck_w8_f16, ck_w1_f16, 2)
CK_FLOAT_AVX2(ck_dot_bf16_avx2, ck_w8_bf16, ck_w1_bf16, 2)

#else
// Not an x86 CPU: the table never selects these; they exist so the target links.
float ck_dot_f32_avx2(int64_t n, const void *w, const void *x) { return ck_dot_f32_ref(n, w, x); }
float ck_dot_f16_avx2(int64_t n, const void *w, const void *x) { return ck_dot_f16_ref(n, w, x); }
float ck_dot_bf16_avx2(int64_t n, const void *w, const void *x) { return ck_dot_bf16_ref(n, w, x); }
#endif
