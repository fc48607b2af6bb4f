// AVX-512 VNNI row kernels for the 32-value block types Q8_0 and Q4_1, single-row and multi-row. One zmm holds two
// consecutive blocks (128-bit lanes 0–1 the first, 2–3 the second) and vpdpbusd sums four unsigned × signed byte
// products per int32 lane without saturation; the transpose ladder of ck_avx512.h then gives eight block sums at once
// (eight rows of one block pair, or sixteen blocks of one row). Terms are computed in double lanes with the exact
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

/// Blocks i..i+nb-1 (nb ≤ 16) of one Q8_0 row added to `sum` in block order; always inlined with nb = 16 in the loop.
static inline __attribute__((always_inline)) CK_AVX512 double ck512_q8_0_group(double sum, const blk_q8_0 *w,
                                                                                const blk_q8_0 *x, int nb) {
    __m512i rows[8];
    for (int k = 0; k < 8; k++) {
        const int a = 2 * k, b = 2 * k + 1;
        rows[k] = a < nb ? ck512_q8_0_acc(ck512_q8_0_weights(&w[a], b < nb ? &w[b] : NULL), &x[a], b < nb ? &x[b] : NULL)
                         : _mm512_setzero_si512();
    }
    __m256i even, odd;  // lane k: block 2k, block 2k+1
    ck512_ladder(rows, &even, &odd);
    const __mmask8 has_even = (__mmask8)((1u << ((nb + 1) / 2)) - 1u), has_odd = (__mmask8)((1u << (nb / 2)) - 1u);
    const __m256i offsets = ck512_row_offsets(2 * sizeof(blk_q8_0));
    const __m512d t_even = _mm512_mul_pd(_mm512_mul_pd(ck512_gather_f16(&w[0].d, offsets, has_even),
                                                       ck512_gather_f16(&x[0].d, offsets, has_even)),
                                         _mm512_cvtepi32_pd(even));
    const __m512d t_odd = _mm512_mul_pd(_mm512_mul_pd(ck512_gather_f16(&w[1].d, offsets, has_odd),
                                                      ck512_gather_f16(&x[1].d, offsets, has_odd)),
                                        _mm512_cvtepi32_pd(odd));
    double te[8], to[8];
    _mm512_storeu_pd(te, t_even);
    _mm512_storeu_pd(to, t_odd);
    for (int k = 0; 2 * k < nb; k++) {
        sum += te[k];
        if (2 * k + 1 < nb) sum += to[k];
    }
    return sum;
}

// Q8_0 · Q8_0, sixteen blocks per step.
CK_AVX512 float ck_dot_q8_0_avx512(int64_t n, const void *vw, const void *vx) {
    const blk_q8_0 *w = vw, *x = vx;
    const int64_t nb = n / 32;
    double sum = 0.0;
    int64_t i = 0;
    for (; i + 16 <= nb; i += 16) {
        ck512_prefetch(&w[i], 16 * (int)sizeof(blk_q8_0));
        sum = ck512_q8_0_group(sum, &w[i], &x[i], 16);
    }
    if (i < nb) sum = ck512_q8_0_group(sum, &w[i], &x[i], (int)(nb - i));
    return (float)sum;
}

static inline __attribute__((always_inline)) CK_AVX512 void
ck512_q8_0_rows(int64_t n, const blk_q8_0 *w, const void *vx, size_t x_stride, int count, float *out) {
    const int64_t nb = n / 32;
    const __m256i offsets = ck512_row_offsets(x_stride);
    const __mmask8 live = (__mmask8)((1u << count) - 1u);
    __m512d sum = _mm512_setzero_pd();
    for (int64_t i = 0; i < nb; i += 2) {
        ck512_prefetch(&w[i], 2 * (int)sizeof(blk_q8_0));
        const int pair = i + 1 < nb;
        const ck512_q8_pair wp = ck512_q8_0_weights(&w[i], pair ? &w[i + 1] : NULL);
        __m512i rows[8];
        for (int k = 0; k < 8; k++) {
            const blk_q8_0 *x = (const blk_q8_0 *)((const uint8_t *)vx + (size_t)k * x_stride) + i;
            rows[k] = k < count ? ck512_q8_0_acc(wp, x, pair ? x + 1 : NULL) : _mm512_setzero_si512();
        }
        __m256i first, second;
        ck512_ladder(rows, &first, &second);
        const blk_q8_0 *x0 = (const blk_q8_0 *)vx + i;
        const __m512d t0 = _mm512_mul_pd(_mm512_mul_pd(_mm512_set1_pd(ck512_half(&w[i].d)),
                                                       ck512_gather_f16(&x0[0].d, offsets, live)),
                                         _mm512_cvtepi32_pd(first));
        sum = _mm512_add_pd(sum, t0);
        if (pair) {
            const __m512d t1 = _mm512_mul_pd(_mm512_mul_pd(_mm512_set1_pd(ck512_half(&w[i + 1].d)),
                                                           ck512_gather_f16(&x0[1].d, offsets, live)),
                                             _mm512_cvtepi32_pd(second));
            sum = _mm512_add_pd(sum, t1);
        }
    }
    ck512_store_rows(sum, count, out);
}

// Q8_0 against up to eight activation rows, each output as ck_dot_q8_0_avx512 (and the reference) computes it.
CK_AVX512 void ck_dotn_q8_0_avx512(int64_t n, const void *vw, const void *vx, size_t x_stride, int count,
                                   float *out) {
    if (!ck512_rows_fit(x_stride)) {
        for (int k = 0; k < count; k++) out[k] = ck_dot_q8_0_avx512(n, vw, (const uint8_t *)vx + k * x_stride);
    } else if (count == CK_DOTN_MAX) {
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

/// d_w·d_x·sumi + m_w·s_x per double lane (ck_term_bias), the weight halves given as 32-bit words d | m << 16.
static inline CK_AVX512 __m512d ck512_q4_1_terms(__m256i dm, __m512d dx, __m512d sx, __m256i sumi) {
    const __m512d dw = _mm512_cvtps_pd(_mm256_cvtph_ps(_mm256_cvtepi32_epi16(dm)));
    const __m512d mw = _mm512_cvtps_pd(_mm256_cvtph_ps(_mm256_cvtepi32_epi16(_mm256_srli_epi32(dm, 16))));
    return _mm512_add_pd(_mm512_mul_pd(_mm512_mul_pd(dw, dx), _mm512_cvtepi32_pd(sumi)), _mm512_mul_pd(mw, sx));
}

/// Blocks i..i+nb-1 (nb ≤ 16) of one Q4_1 row added to `sum` in block order.
static inline __attribute__((always_inline)) CK_AVX512 double ck512_q4_1_group(double sum, const blk_q4_1 *w,
                                                                                const blk_q8_1s *x, int nb) {
    __m512i rows[8];
    for (int k = 0; k < 8; k++) {
        const int a = 2 * k, b = 2 * k + 1;
        rows[k] = a < nb ? ck512_q4_1_acc(ck512_nibble_pair(w[a].qs, b < nb ? w[b].qs : NULL), &x[a],
                                          b < nb ? &x[b] : NULL)
                         : _mm512_setzero_si512();
    }
    __m256i even, odd;
    ck512_ladder(rows, &even, &odd);
    const __mmask8 has_even = (__mmask8)((1u << ((nb + 1) / 2)) - 1u), has_odd = (__mmask8)((1u << (nb / 2)) - 1u);
    const __m256i w_off = ck512_row_offsets(2 * sizeof(blk_q4_1)), x_off = ck512_row_offsets(2 * sizeof(blk_q8_1s));
    const __m256i z = _mm256_setzero_si256();
    const __m512d t_even = ck512_q4_1_terms(_mm256_mmask_i32gather_epi32(z, has_even, w_off, &w[0].d, 1),
                                            ck512_gather_f32(&x[0].d, x_off, has_even),
                                            ck512_gather_f32(&x[0].s, x_off, has_even), even);
    const __m512d t_odd = ck512_q4_1_terms(_mm256_mmask_i32gather_epi32(z, has_odd, w_off, &w[1].d, 1),
                                           ck512_gather_f32(&x[1].d, x_off, has_odd),
                                           ck512_gather_f32(&x[1].s, x_off, has_odd), odd);
    double te[8], to[8];
    _mm512_storeu_pd(te, t_even);
    _mm512_storeu_pd(to, t_odd);
    for (int k = 0; 2 * k < nb; k++) {
        sum += te[k];
        if (2 * k + 1 < nb) sum += to[k];
    }
    return sum;
}

// Q4_1 · Q8_1, sixteen blocks per step.
CK_AVX512 float ck_dot_q4_1_avx512(int64_t n, const void *vw, const void *vx) {
    const blk_q4_1 *w = vw;
    const blk_q8_1s *x = vx;
    const int64_t nb = n / 32;
    double sum = 0.0;
    int64_t i = 0;
    for (; i + 16 <= nb; i += 16) {
        ck512_prefetch(&w[i], 16 * (int)sizeof(blk_q4_1));
        sum = ck512_q4_1_group(sum, &w[i], &x[i], 16);
    }
    if (i < nb) sum = ck512_q4_1_group(sum, &w[i], &x[i], (int)(nb - i));
    return (float)sum;
}

static inline __attribute__((always_inline)) CK_AVX512 void
ck512_q4_1_rows(int64_t n, const blk_q4_1 *w, const void *vx, size_t x_stride, int count, float *out) {
    const int64_t nb = n / 32;
    const __m256i offsets = ck512_row_offsets(x_stride);
    const __mmask8 live = (__mmask8)((1u << count) - 1u);
    __m512d sum = _mm512_setzero_pd();
    for (int64_t i = 0; i < nb; i += 2) {
        ck512_prefetch(&w[i], 2 * (int)sizeof(blk_q4_1));
        const int pair = i + 1 < nb;
        const __m512i q = ck512_nibble_pair(w[i].qs, pair ? w[i + 1].qs : NULL);
        __m512i rows[8];
        for (int k = 0; k < 8; k++) {
            const blk_q8_1s *x = (const blk_q8_1s *)((const uint8_t *)vx + (size_t)k * x_stride) + i;
            rows[k] = k < count ? ck512_q4_1_acc(q, x, pair ? x + 1 : NULL) : _mm512_setzero_si512();
        }
        __m256i first, second;
        ck512_ladder(rows, &first, &second);
        const blk_q8_1s *x0 = (const blk_q8_1s *)vx + i;
        sum = _mm512_add_pd(sum, ck512_q4_1_terms(_mm256_set1_epi32((int)ck_u32(&w[i].d)),
                                                  ck512_gather_f32(&x0[0].d, offsets, live),
                                                  ck512_gather_f32(&x0[0].s, offsets, live), first));
        if (pair) {
            sum = _mm512_add_pd(sum, ck512_q4_1_terms(_mm256_set1_epi32((int)ck_u32(&w[i + 1].d)),
                                                      ck512_gather_f32(&x0[1].d, offsets, live),
                                                      ck512_gather_f32(&x0[1].s, offsets, live), second));
        }
    }
    ck512_store_rows(sum, count, out);
}

// Q4_1 against up to eight activation rows, each output as ck_dot_q4_1_avx512 computes it.
CK_AVX512 void ck_dotn_q4_1_avx512(int64_t n, const void *vw, const void *vx, size_t x_stride, int count,
                                   float *out) {
    if (!ck512_rows_fit(x_stride)) {
        for (int k = 0; k < count; k++) out[k] = ck_dot_q4_1_avx512(n, vw, (const uint8_t *)vx + k * x_stride);
    } else if (count == CK_DOTN_MAX) {
        ck512_q4_1_rows(n, vw, vx, x_stride, CK_DOTN_MAX, out);
    } else {
        ck512_q4_1_rows(n, vw, vx, x_stride, count, out);
    }
}

#else
// Not an x86 CPU: the table never selects these; they exist so the target links.
float ck_dot_q8_0_avx512(int64_t n, const void *w, const void *x) { return ck_dot_q8_0_ref(n, w, x); }
float ck_dot_q4_1_avx512(int64_t n, const void *w, const void *x) { return ck_dot_q4_1_ref(n, w, x); }
void ck_dotn_q8_0_avx512(int64_t n, const void *w, const void *x, size_t x_stride, int count, float *out) {
    for (int k = 0; k < count; k++) out[k] = ck_dot_q8_0_ref(n, w, (const uint8_t *)x + (size_t)k * x_stride);
}
void ck_dotn_q4_1_avx512(int64_t n, const void *w, const void *x, size_t x_stride, int count, float *out) {
    for (int k = 0; k < count; k++) out[k] = ck_dot_q4_1_ref(n, w, (const uint8_t *)x + (size_t)k * x_stride);
}
#endif
