// AVX-512 VNNI multi-row kernels for the 32-value block types Q8_0 and Q4_1. One zmm holds two consecutive blocks
// (128-bit lanes 0–1 the first, 2–3 the second) and vpdpbusd sums four unsigned × signed byte products per int32 lane
// without saturation; the transpose ladder of ck_avx512.h then gives the block sums of eight rows at once. Terms are computed in double lanes with the exact
// operations of ck_term / ck_term_bias and added to each row's sum in block order, so every output equals the scalar
// reference bit for bit.
#include "ck_avx2.h"
#include "ck_avx512.h"

#if defined(__x86_64__) || defined(__i386__)

/// 32 bytes at `a` in the low half and 32 at `b` in the high half (zero when `b` is NULL: a lone last block).
static inline CK_AVX512 __m512i ck512_load_pair(const void *a, const void *b) {
    const __m512i lo = _mm512_zextsi256_si512(_mm256_loadu_si256((const __m256i *)a));
    return b != NULL ? _mm512_inserti64x4(lo, _mm256_loadu_si256((const __m256i *)b), 1) : lo;
}

/// The 16 quant bytes at `a` and at `b` as 4-bit values: [a low nibbles, a high nibbles, b low, b high] (a Q4_1 block's
/// values 0..15 then 16..31 each), zero for a NULL `b`.
static inline CK_AVX512 __m512i ck512_nibble_pair(const uint8_t *a, const uint8_t *b) {
    const __m512i shift = _mm512_setr_epi64(0, 0, 0x0004000400040004, 0x0004000400040004, 0, 0, 0x0004000400040004,
                                            0x0004000400040004);
    const __m256i lo = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)a));
    const __m256i hi = b != NULL ? _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)b)) : _mm256_setzero_si256();
    const __m512i t = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
    return _mm512_and_si512(_mm512_srlv_epi16(t, shift), _mm512_set1_epi8(0x0F));
}

// MARK: - Q8_0 · Q8_0

/// A weight block pair for the sign trick: |w| as unsigned bytes and the mask of negative w.
typedef struct {
    __m512i abs;
    __mmask64 neg;
} ck512_q8_pair;

static inline CK_AVX512 ck512_q8_pair ck512_q8_0_weights(const blk_q8_0 *a, const blk_q8_0 *b) {
    const __m512i w = ck512_load_pair(a->qs, b != NULL ? b->qs : NULL);
    return (ck512_q8_pair){_mm512_abs_epi8(w), _mm512_movepi8_mask(w)};
}

/// Σ w·y of a block pair as 16 int32 lanes: |w| (≤ 128 as unsigned) times y with w's sign. Needs y ≠ −128 where
/// w < 0, which holds because Q8_0 activations are in [−127, 127] (d = amax/127); four products per lane ≤ 65024.
static inline CK_AVX512 __m512i ck512_q8_0_acc(ck512_q8_pair w, const blk_q8_0 *a, const blk_q8_0 *b) {
    const __m512i y = ck512_load_pair(a->qs, b != NULL ? b->qs : NULL);
    const __m512i signed_y = _mm512_mask_sub_epi8(y, w.neg, _mm512_setzero_si512(), y);
    return _mm512_dpbusd_epi32(_mm512_setzero_si512(), w.abs, signed_y);
}

static inline __attribute__((always_inline)) CK_AVX512 void
ck512_q8_0_rows(int64_t n, const blk_q8_0 *w, const void *vx, size_t x_stride, int count, float *out) {
    const int64_t nb = n / 32;
    __m512d sum = _mm512_setzero_pd();
    for (int64_t i = 0; i < nb; i += 2) {
        ck512_prefetch(&w[i], 2 * (int)sizeof(blk_q8_0));
        const int pair = i + 1 < nb;
        const ck512_q8_pair wp = ck512_q8_0_weights(&w[i], pair ? &w[i + 1] : NULL);
        __m512i rows[8];
        _Pragma("clang loop unroll(full)") for (int k = 0; k < 8; k++) {
            const blk_q8_0 *x = (const blk_q8_0 *)((const uint8_t *)vx + (size_t)k * x_stride) + i;
            rows[k] = k < count ? ck512_q8_0_acc(wp, x, pair ? x + 1 : NULL) : _mm512_setzero_si512();
        }
        __m256i first, second;
        ck512_ladder(rows, &first, &second);
        const blk_q8_0 *x0 = (const blk_q8_0 *)vx + i;
        const __m512d t0 = _mm512_mul_pd(_mm512_mul_pd(_mm512_set1_pd(ck512_half(&w[i].d)),
                                                       ck512_rows_f16(&x0[0].d, x_stride, count)),
                                         _mm512_cvtepi32_pd(first));
        sum = _mm512_add_pd(sum, t0);
        if (pair) {
            const __m512d t1 = _mm512_mul_pd(_mm512_mul_pd(_mm512_set1_pd(ck512_half(&w[i + 1].d)),
                                                           ck512_rows_f16(&x0[1].d, x_stride, count)),
                                             _mm512_cvtepi32_pd(second));
            sum = _mm512_add_pd(sum, t1);
        }
    }
    ck512_store_rows(sum, count, out);
}

// Q8_0 against up to eight activation rows, each output as the scalar reference computes it.
CK_AVX512 void ck_dotn_q8_0_avx512(int64_t n, const void *vw, const void *vx, size_t x_stride, int count,
                                   float *out) {
    if (count == CK_DOTN_MAX) {
        ck512_q8_0_rows(n, vw, vx, x_stride, CK_DOTN_MAX, out);
    } else {
        ck512_q8_0_rows(n, vw, vx, x_stride, count, out);
    }
}

// MARK: - Q4_1 · Q8_1

/// Σ q·y of a block pair as 16 int32 lanes: quants 0..15 (unsigned) × int8, four products per lane ≤ 2048.
static inline CK_AVX512 __m512i ck512_q4_1_acc(__m512i q, const blk_q8_1s *a, const blk_q8_1s *b) {
    return _mm512_dpbusd_epi32(_mm512_setzero_si512(), q, ck512_load_pair(a->qs, b != NULL ? b->qs : NULL));
}

/// d_w·d_x·sumi + m_w·s_x per double lane (ck_term_bias).
static inline CK_AVX512 __m512d ck512_q4_1_terms(__m512d dw, __m512d mw, __m512d dx, __m512d sx, __m256i sumi) {
    return _mm512_add_pd(_mm512_mul_pd(_mm512_mul_pd(dw, dx), _mm512_cvtepi32_pd(sumi)), _mm512_mul_pd(mw, sx));
}

/// Rows' scales of block i: from `scales` (ck_tile_scales_q8_1's table: per block the eight d, then the eight s, as
/// doubles) when given, else read from the rows.
static inline __attribute__((always_inline)) CK_AVX512 __m512d ck512_q8_1_d(const double *scales, const blk_q8_1s *x0,
                                                                           int64_t i, size_t x_stride, int count) {
    return scales != NULL ? _mm512_loadu_pd(scales + 16 * i) : ck512_rows_f32(&x0[i].d, x_stride, count);
}

static inline __attribute__((always_inline)) CK_AVX512 __m512d ck512_q8_1_s(const double *scales, const blk_q8_1s *x0,
                                                                           int64_t i, size_t x_stride, int count) {
    return scales != NULL ? _mm512_loadu_pd(scales + 16 * i + 8) : ck512_rows_f32(&x0[i].s, x_stride, count);
}

static inline __attribute__((always_inline)) CK_AVX512 void
ck512_q4_1_rows(int64_t n, const blk_q4_1 *w, const void *vx, size_t x_stride, int count, const double *scales,
                float *out) {
    const int64_t nb = n / 32;
    __m512d sum = _mm512_setzero_pd();
    for (int64_t i = 0; i < nb; i += 2) {
        ck512_prefetch(&w[i], 2 * (int)sizeof(blk_q4_1));
        const int pair = i + 1 < nb;
        const __m512i q = ck512_nibble_pair(w[i].qs, pair ? w[i + 1].qs : NULL);
        __m512i rows[8];
        _Pragma("clang loop unroll(full)") for (int k = 0; k < 8; k++) {
            const blk_q8_1s *x = (const blk_q8_1s *)((const uint8_t *)vx + (size_t)k * x_stride) + i;
            rows[k] = k < count ? ck512_q4_1_acc(q, x, pair ? x + 1 : NULL) : _mm512_setzero_si512();
        }
        __m256i first, second;
        ck512_ladder(rows, &first, &second);
        const blk_q8_1s *x0 = (const blk_q8_1s *)vx;
        const __m128d dm0 = ck_h2f_pair(&w[i].d);
        sum = _mm512_add_pd(sum, ck512_q4_1_terms(_mm512_broadcastsd_pd(dm0),
                                                  _mm512_broadcastsd_pd(_mm_unpackhi_pd(dm0, dm0)),
                                                  ck512_q8_1_d(scales, x0, i, x_stride, count),
                                                  ck512_q8_1_s(scales, x0, i, x_stride, count), first));
        if (pair) {
            const __m128d dm1 = ck_h2f_pair(&w[i + 1].d);
            sum = _mm512_add_pd(sum, ck512_q4_1_terms(_mm512_broadcastsd_pd(dm1),
                                                      _mm512_broadcastsd_pd(_mm_unpackhi_pd(dm1, dm1)),
                                                      ck512_q8_1_d(scales, x0, i + 1, x_stride, count),
                                                      ck512_q8_1_s(scales, x0, i + 1, x_stride, count), second));
        }
    }
    ck512_store_rows(sum, count, out);
}

// Q4_1 against up to eight activation rows, each output as the scalar reference computes it.
CK_AVX512 void ck_dotn_q4_1_avx512(int64_t n, const void *vw, const void *vx, size_t x_stride, int count,
                                   float *out) {
    if (count == CK_DOTN_MAX) {
        ck512_q4_1_rows(n, vw, vx, x_stride, CK_DOTN_MAX, NULL, out);
    } else {
        ck512_q4_1_rows(n, vw, vx, x_stride, count, NULL, out);
    }
}

// ck_dotn_q4_1_avx512 with the rows' scales taken from a table the caller built once for its tile
// (ck_tile_scales_q8_1): the same values, so the same bits; the eight rows' scales are no longer gathered from eight
// rows for every block of every weight row (17 % of this kernel's time on SmolLM2's shapes).
CK_AVX512 void ck_dotn_q4_1_avx512_scaled(int64_t n, const void *vw, const void *vx, size_t x_stride, int count,
                                          const double *scales, float *out) {
    if (count == CK_DOTN_MAX) {
        ck512_q4_1_rows(n, vw, vx, x_stride, CK_DOTN_MAX, scales, out);
    } else {
        ck512_q4_1_rows(n, vw, vx, x_stride, count, scales, out);
    }
}

#else
// Not an x86 CPU: the table never selects these; they exist so the target links.
void ck_dotn_q8_0_avx512(int64_t n, const void *w, const void *x, size_t x_stride, int count, float *out) {
    for (int k = 0; k < count; k++) out[k] = ck_dot_q8_0_ref(n, w, (const uint8_t *)x + (size_t)k * x_stride);
}
void ck_dotn_q4_1_avx512(int64_t n, const void *w, const void *x, size_t x_stride, int count, float *out) {
    for (int k = 0; k < count; k++) out[k] = ck_dot_q4_1_ref(n, w, (const uint8_t *)x + (size_t)k * x_stride);
}
void ck_dotn_q4_1_avx512_scaled(int64_t n, const void *w, const void *x, size_t x_stride, int count,
                                const double *scales, float *out) {
    (void)scales;
    for (int k = 0; k < count; k++) out[k] = ck_dot_q4_1_ref(n, w, (const uint8_t *)x + (size_t)k * x_stride);
}
#endif
