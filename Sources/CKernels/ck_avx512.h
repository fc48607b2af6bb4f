// Shared AVX-512 helpers for the run-time selected kernels (dot_avx512*.c). Everything here carries the target
// attribute, so only code that ck_dot_lookup selects on a CPU with AVX-512 F/BW/VL/DQ + VNNI (and the OS saving the
// zmm state) executes it; the binary still runs on older CPUs.
#ifndef SPARROW_CK_AVX512_H
#define SPARROW_CK_AVX512_H

#include "ck_dot.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define CK_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c")))

/// Prefetches the cache lines of a weight block about a row ahead (as ck_prefetch in ck_avx2.h).
static inline CK_AVX512 void ck512_prefetch(const void *block, int bytes) {
    for (int k = 0; k < bytes; k += 64) _mm_prefetch((const char *)block + 4096 + k, _MM_HINT_T0);
}

/// One f16 at `p` as a double (exact).
static inline CK_AVX512 double ck512_half(const void *p) {
    const uint32_t h = ck_u16(p);
    __m128i v;
    __asm__("vmovd %1, %0" : "=x"(v) : "r"(h));  // see ck_h2f: keeps the conversion off the row sum's chain
    return (double)_mm_cvtss_f32(_mm_cvtph_ps(v));
}

/// acc + Σ pairs of a·b (int16 × int16 → int32, vpdpwssd), as one instruction: written with the intrinsic, clang
/// splits a chain of them into vpmaddwd + vpaddd (one more uop each on the two 512-bit ports).
static inline CK_AVX512 __m512i ck512_dpwssd(__m512i acc, __m512i a, __m512i b) {
    __asm__("vpdpwssd %2, %1, %0" : "+v"(acc) : "v"(a), "v"(b));
    return acc;
}

/// Sums the int32 lanes of eight vectors (one per activation row) in two groups: `first` gets, for row k in lane k,
/// the sum of 128-bit lanes 0 and 1 of v[k]; `second` the sum of lanes 2 and 3. One transpose-and-add ladder for all
/// eight rows instead of eight horizontal sums; integer adds are exact in any order.
static inline CK_AVX512 void ck512_ladder(const __m512i v[8], __m256i *first, __m256i *second) {
    __m512i p[4];
    for (int k = 0; k < 4; k++) {  // per 128-bit lane: [a0+a2, b0+b2, a1+a3, b1+b3] for rows a = 2k, b = 2k+1
        p[k] = _mm512_add_epi32(_mm512_unpacklo_epi32(v[2 * k], v[2 * k + 1]),
                                _mm512_unpackhi_epi32(v[2 * k], v[2 * k + 1]));
    }
    // Per 128-bit lane: the lane's sum for rows 0..3 (q0) and 4..7 (q1).
    const __m512i q0 = _mm512_add_epi32(_mm512_unpacklo_epi64(p[0], p[1]), _mm512_unpackhi_epi64(p[0], p[1]));
    const __m512i q1 = _mm512_add_epi32(_mm512_unpacklo_epi64(p[2], p[3]), _mm512_unpackhi_epi64(p[2], p[3]));
    // [q0 lanes 0+1, q0 lanes 2+3, q1 lanes 0+1, q1 lanes 2+3]
    const __m512i s = _mm512_add_epi32(_mm512_shuffle_i32x4(q0, q1, _MM_SHUFFLE(2, 0, 2, 0)),
                                       _mm512_shuffle_i32x4(q0, q1, _MM_SHUFFLE(3, 1, 3, 1)));
    const __m512i t = _mm512_shuffle_i32x4(s, s, _MM_SHUFFLE(3, 1, 2, 0));
    *first = _mm512_castsi512_si256(t);
    *second = _mm512_extracti64x4_epi64(t, 1);
}

/// The f32 at byte offset k·stride from `base` for k < count (0 elsewhere), as doubles. Plain loads, not a gather:
/// with the Gather Data Sampling mitigation a gather costs tens of cycles (measured: gathering the activation scales
/// took 12 % of the Q4_K multi-row kernel's samples).
static inline __attribute__((always_inline)) CK_AVX512 __m512d ck512_rows_f32(const void *base, size_t stride,
                                                                               int count) {
    const uint8_t *p = base;
    float v[8];
    for (int k = 0; k < 8; k++) {
        v[k] = 0.0f;
        if (k < count) memcpy(&v[k], p + (size_t)k * stride, 4);
    }
    return _mm512_cvtps_pd(_mm256_setr_ps(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]));
}

/// The f16 at byte offset k·stride from `base` for k < count (0 elsewhere), as doubles (exact).
static inline __attribute__((always_inline)) CK_AVX512 __m512d ck512_rows_f16(const void *base, size_t stride,
                                                                               int count) {
    const uint8_t *p = base;
    uint16_t h[8];
    for (int k = 0; k < 8; k++) h[k] = k < count ? ck_u16(p + (size_t)k * stride) : 0;
    const __m128i v = _mm_setr_epi16((short)h[0], (short)h[1], (short)h[2], (short)h[3], (short)h[4], (short)h[5],
                                     (short)h[6], (short)h[7]);
    return _mm512_cvtps_pd(_mm256_cvtph_ps(v));
}

/// Stores the first `count` lanes of eight row sums, each rounded once to float (as `(float)sum` in the reference).
static inline CK_AVX512 void ck512_store_rows(__m512d sum, int count, float *out) {
    _mm256_mask_storeu_ps(out, (__mmask8)((1u << count) - 1u), _mm512_cvtpd_ps(sum));
}

#endif
#endif
