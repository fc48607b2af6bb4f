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

/// The 4 bytes at `p` in every 32-bit lane, as a broadcast load (a load-port uop). Written with the intrinsic, clang
/// forwards a value just stored (unpacked scales, quants) through shuffles on port 5, which these kernels need more.
static inline CK_AVX512 __m512i ck512_broadcast32(const void *p) {
    __m512i v;
    __asm__("vpbroadcastd %1, %0" : "=v"(v) : "m"(*(const int32_t *)p));
    return v;
}

/// The 8 bytes at `p` in every 64-bit lane, as a broadcast load (see ck512_broadcast32).
static inline CK_AVX512 __m512i ck512_broadcast64(const void *p) {
    __m512i v;
    __asm__("vpbroadcastq %1, %0" : "=v"(v) : "m"(*(const int64_t *)p));
    return v;
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

/// A Q4_K/Q5_K block's 6-bit scales and mins (get_scale_min_k4, as ck_k4_scales) unpacked in one vector register:
/// bytes 0–7 the scales, 8–15 the mins. Reads 16 bytes at `packed` (the 12 packed bytes and the first 4 quant bytes
/// that follow them in both block types).
static inline CK_AVX512 __m128i ck_k4_scales_vector(const uint8_t *packed) {
    const __m128i v = _mm_loadu_si128((const __m128i *)packed);  // 32-bit lanes u0 u1 u2 (u3 unused)
    const __m128i m6 = _mm_set1_epi32(0x3f3f3f3f), m4 = _mm_set1_epi32(0x0f0f0f0f), m2 = _mm_set1_epi32(0x03030303);
    const __m128i low = _mm_and_si128(v, m6);  // [scales 0–3, mins 0–3]
    const __m128i u2 = _mm_srlv_epi32(_mm_shuffle_epi32(v, _MM_SHUFFLE(2, 2, 2, 2)), _mm_setr_epi32(0, 4, 0, 0));
    const __m128i top = _mm_slli_epi32(_mm_and_si128(_mm_srli_epi32(v, 6), m2), 4);
    const __m128i high = _mm_or_si128(_mm_and_si128(u2, m4), top);  // [scales 4–7, mins 4–7]
    return _mm_unpacklo_epi32(low, high);
}

/// A Q6_K block unpacked once: q[p] the unsigned 6-bit quants of values 64p..64p+63, sc[p] their scales as int16
/// (128-bit lane L of q[p] is the 16 values of scale 4p+L), sc16 all sixteen scales as int16.
typedef struct {
    __m512i q[4];
    __m512i sc[4];
    __m256i sc16;
} ck512_q6_K;

static inline CK_AVX512 void ck512_q6_K_unpack(const blk_q6_K *w, ck512_q6_K *u) {
    const __m512i m4 = _mm512_set1_epi8(0x0F), m30 = _mm512_set1_epi8(0x30);
    u->sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)w->scales));
    const __m512i s16 = _mm512_castsi256_si512(u->sc16);
    for (int p = 0; p < 4; p++) {
        const __m512i idx = _mm512_inserti64x4(
            _mm512_castsi256_si512(_mm256_set_m128i(_mm_set1_epi16((short)(4 * p + 1)), _mm_set1_epi16((short)(4 * p)))),
            _mm256_set_m128i(_mm_set1_epi16((short)(4 * p + 3)), _mm_set1_epi16((short)(4 * p + 2))), 1);
        u->sc[p] = _mm512_permutexvar_epi16(idx, s16);
    }
    // Groups g = 0..3 of half h: low 4 bits from ql[64h + 32(g%2) + l] >> 4(g/2), high 2 from qh[32h + l] >> 2g.
    // Moved to bits 4–5 of the same byte: g0 (qh << 4), g1 (qh << 2), g2 (qh), g3 (qh >> 2), masked with 0x30.
    const __m512i left01 = _mm512_inserti64x4(_mm512_set1_epi16(4), _mm256_set1_epi16(2), 1);
    const __m512i right23 = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(2), 1);
    for (int h = 0; h < 2; h++) {
        const __m512i ql = _mm512_loadu_si512((const void *)(w->ql + 64 * h));
        const __m512i qh = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(w->qh + 32 * h)));
        const __m512i hi01 = _mm512_and_si512(_mm512_sllv_epi16(qh, left01), m30);
        const __m512i hi23 = _mm512_and_si512(_mm512_srlv_epi16(qh, right23), m30);
        u->q[2 * h] = _mm512_or_si512(_mm512_and_si512(ql, m4), hi01);
        u->q[2 * h + 1] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(ql, 4), m4), hi23);
    }
}

#endif
#endif
