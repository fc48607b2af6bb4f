// AVX2 row kernels for the remaining types: Q4_0, Q5_0 and IQ4_NL (· Q8_0), Q5_1 (· Q8_1), IQ4_XS, Q2_K and Q3_K
// (· Q8_K). As in dot_avx2.c, each block's integer sum is the reference's exact integer, folded by the same
// ck_term call in block order, so results equal the scalar reference bit for bit.
#include "ck_avx2.h"

#if defined(__x86_64__) || defined(__i386__)

/// 32 bytes, byte j = 0xFF when bit j of the 32-bit word at `p` is set (the Q5 high bits, in value order).
static inline CK_AVX2 __m256i ck_bits32(const uint8_t *p) {
    const __m256i word = _mm256_set1_epi32((int)ck_u32(p));
    const __m256i spread = _mm256_shuffle_epi8(word, _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202,
                                                                       0x0101010101010101, 0x0000000000000000));
    const __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ULL);
    return _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit);
}

/// The IQ4_NL grid looked up for 32 nibbles (one shuffle), as int8.
static inline CK_AVX2 __m256i ck_iq4_values(__m256i nibbles) {
    const __m256i grid = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)ck_kvalues_iq4nl));
    return _mm256_shuffle_epi8(grid, nibbles);
}

// Signed weights against Q8_0: |w| ≤ 127 (IQ4_NL) or ≤ 16 (Q4_0, Q5_0), so maddubs pairs stay below 2^15.
static inline CK_AVX2 __m256i ck_q4_0_lanes(const blk_q4_0 *w, const blk_q8_0 *x) {
    return ck_dot_i8_lanes(_mm256_sub_epi8(ck_nibbles16(w->qs), _mm256_set1_epi8(8)), ck_load(x->qs));
}

static inline CK_AVX2 __m256i ck_iq4_nl_lanes(const blk_q4_0 *w, const blk_q8_0 *x) {
    return ck_dot_i8_lanes(ck_iq4_values(ck_nibbles16(w->qs)), ck_load(x->qs));
}

static inline CK_AVX2 __m256i ck_q5_0_lanes(const blk_q5_0 *w, const blk_q8_0 *x) {
    const __m256i high = _mm256_and_si256(ck_bits32(w->qh), _mm256_set1_epi8(16));
    const __m256i q = _mm256_sub_epi8(_mm256_or_si256(ck_nibbles16(w->qs), high), _mm256_set1_epi8(16));
    return ck_dot_i8_lanes(q, ck_load(x->qs));
}

/// The four-blocks-per-step loop of the Q8_0 family (d is the first field of every weight block).
#define CK_Q8_0_FAMILY(name, block_t, lanes)                                                                      \
    CK_AVX2 float name(int64_t n, const void *vw, const void *vx) {                                              \
        const block_t *w = vw;                                                                                  \
        const blk_q8_0 *x = vx;                                                                                 \
        const int64_t nb = n / 32;                                                                              \
        double sum = 0.0;                                                                                       \
        int64_t i = 0;                                                                                          \
        for (; i + 4 <= nb; i += 4) {                                                                           \
            ck_prefetch(&w[i], 4 * (int)sizeof(block_t));                                                       \
            int32_t sumi[4];                                                                                    \
            _mm_storeu_si128((__m128i *)sumi, ck_hsum4_i32(lanes(&w[i], &x[i]), lanes(&w[i + 1], &x[i + 1]),   \
                                                           lanes(&w[i + 2], &x[i + 2]), lanes(&w[i + 3], &x[i + 3]))); \
            sum = ck_fold4(sum, (const uint8_t *)&w[i].d, sizeof(block_t), &x[i], sumi);                       \
        }                                                                                                       \
        for (; i < nb; i++) sum += ck_term(ck_h2f(&w[i].d), ck_h2f(&x[i].d), ck_hsum_i32(lanes(&w[i], &x[i]))); \
        return (float)sum;                                                                                      \
    }

CK_Q8_0_FAMILY(ck_dot_q4_0_avx2, blk_q4_0, ck_q4_0_lanes)
CK_Q8_0_FAMILY(ck_dot_q5_0_avx2, blk_q5_0, ck_q5_0_lanes)
CK_Q8_0_FAMILY(ck_dot_iq4_nl_avx2, blk_q4_0, ck_iq4_nl_lanes)

// Q5_1 · Q8_1: unsigned quants 0..31, maddubs pairs ≤ 2·31·127.
CK_AVX2 float ck_dot_q5_1_avx2(int64_t n, const void *vw, const void *vx) {
    const blk_q5_1 *w = vw;
    const blk_q8_1s *x = vx;
    double sum = 0.0;
    for (int64_t i = 0; i < n / 32; i++) {
        ck_prefetch(&w[i], (int)sizeof(blk_q5_1));
        const __m256i q = _mm256_or_si256(ck_nibbles16(w[i].qs), _mm256_and_si256(ck_bits32(w[i].qh),
                                                                                  _mm256_set1_epi8(16)));
        const __m256i p = _mm256_maddubs_epi16(q, ck_load(x[i].qs));
        const int32_t sumi = ck_hsum_i32(_mm256_madd_epi16(p, _mm256_set1_epi16(1)));
        const __m128d dm = ck_h2f_pair(&w[i].d);
        sum += ck_term_bias(_mm_cvtsd_f64(dm), x[i].d, sumi, _mm_cvtsd_f64(_mm_unpackhi_pd(dm, dm)), x[i].s);
    }
    return (float)sum;
}

// IQ4_XS · Q8_K: grid values |K| ≤ 127 against int8: maddubs pairs ≤ 2·127·127 < 2^15; times a scale in
// [-32, 31] in madd: < 2^21 per lane and sub-block.
CK_AVX2 float ck_dot_iq4_xs_avx2(int64_t n, const void *vw, const void *vx) {
    const blk_iq4_xs *w = vw;
    const blk_q8_K *x = vx;
    double sum = 0.0;
    for (int64_t i = 0; i < n / QK_K; i++) {
        ck_prefetch(&w[i], (int)sizeof(blk_iq4_xs));
        __m256i acc = _mm256_setzero_si256();
        for (int ib = 0; ib < 8; ib++) {
            const __m256i k = ck_iq4_values(ck_nibbles16(w[i].qs + 16 * ib));
            const __m256i y = ck_load(x[i].qs + 32 * ib);
            const __m256i p = _mm256_maddubs_epi16(_mm256_sign_epi8(k, k), _mm256_sign_epi8(y, k));
            const __m256i scale = _mm256_set1_epi16((short)ck_iq4xs_scale(&w[i], ib));
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p, scale));
        }
        sum += ck_term(ck_h2f(&w[i].d), x[i].d, ck_hsum_i32(acc));
    }
    return (float)sum;
}

/// The int16 scale vector for a group of 32 values in a K-quant half with 16-value scales: `half8` holds the half's
/// 8 scales as int16 in both lanes; group g takes scale 2g (low lane) and 2g+1 (high lane).
static inline CK_AVX2 __m256i ck_group_scales(__m256i half8, int g) {
    const __m256i ctrl = _mm256_set_m128i(_mm_set1_epi16((short)(((4 * g + 3) << 8) | (4 * g + 2))),
                                          _mm_set1_epi16((short)(((4 * g + 1) << 8) | (4 * g))));
    return _mm256_shuffle_epi8(half8, ctrl);
}

// Q2_K · Q8_K: 2-bit quants × int8, maddubs pairs ≤ 2·3·127; times a 4-bit scale. The mins go through the
// activation's 16-value sums, as in the reference.
CK_AVX2 float ck_dot_q2_K_avx2(int64_t n, const void *vw, const void *vx) {
    const blk_q2_K *w = vw;
    const blk_q8_K *x = vx;
    const __m256i m2 = _mm256_set1_epi8(3);
    const __m128i m4 = _mm_set1_epi8(0x0F);
    double sum = 0.0;
    for (int64_t i = 0; i < n / QK_K; i++) {
        ck_prefetch(&w[i], (int)sizeof(blk_q2_K));
        const __m128i packed = _mm_loadu_si128((const __m128i *)w[i].scales);
        const __m128i scales = _mm_and_si128(packed, m4);
        const __m256i mins = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(packed, 4), m4));
        __m256i acc = _mm256_setzero_si256();
        for (int h = 0; h < 2; h++) {
            const __m128i half = h == 0 ? scales : _mm_srli_si128(scales, 8);
            const __m256i sc = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(half));
            const __m256i q = ck_load(w[i].qs + 32 * h);
            for (int s = 0; s < 4; s++) {
                const __m256i qs = _mm256_and_si256(_mm256_srli_epi16(q, 2 * s), m2);
                const __m256i p = _mm256_maddubs_epi16(qs, ck_load(x[i].qs + 128 * h + 32 * s));
                acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p, ck_group_scales(sc, s)));
            }
        }
        const __m256i macc = _mm256_madd_epi16(ck_load(x[i].bsums), mins);
        const __m128i sums = ck_hsum4_i32(acc, macc, _mm256_setzero_si256(), _mm256_setzero_si256());
        const __m128d dm = ck_h2f_pair(&w[i].d);
        sum += ck_term_min(_mm_cvtsd_f64(dm), _mm_cvtsd_f64(_mm_unpackhi_pd(dm, dm)), x[i].d, _mm_cvtsi128_si32(sums),
                           _mm_extract_epi32(sums, 1));
    }
    return (float)sum;
}

// Q3_K · Q8_K: the unsigned quant low2 + 4·hbit (0..7) × int8, maddubs pairs ≤ 2·7·127; times a 6-bit signed
// scale. Σ sc·(q − 4)·y = Σ sc·q·y − 4·Σ sc·bsum, the reference's integer.
CK_AVX2 float ck_dot_q3_K_avx2(int64_t n, const void *vw, const void *vx) {
    const blk_q3_K *w = vw;
    const blk_q8_K *x = vx;
    const __m256i m2 = _mm256_set1_epi8(3), four = _mm256_set1_epi8(4);
    double sum = 0.0;
    for (int64_t i = 0; i < n / QK_K; i++) {
        ck_prefetch(&w[i], (int)sizeof(blk_q3_K));
        int8_t sc[16];
        ck_q3k_scales(w[i].scales, sc);
        const __m128i sc8 = _mm_loadu_si128((const __m128i *)sc);
        const __m256i hmask = ck_load(w[i].hmask);
        __m256i acc = _mm256_setzero_si256();
        for (int h = 0; h < 2; h++) {
            const __m256i half8 = _mm256_broadcastsi128_si256(_mm_cvtepi8_epi16(h == 0 ? sc8 : _mm_srli_si128(sc8, 8)));
            const __m256i q = ck_load(w[i].qs + 32 * h);
            for (int s = 0; s < 4; s++) {
                const __m256i bit = _mm256_set1_epi8((char)(1 << (4 * h + s)));
                const __m256i high = _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(hmask, bit), bit), four);
                const __m256i qs = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 2 * s), m2), high);
                const __m256i p = _mm256_maddubs_epi16(qs, ck_load(x[i].qs + 128 * h + 32 * s));
                acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p, ck_group_scales(half8, s)));
            }
        }
        const __m256i offset = _mm256_madd_epi16(ck_load(x[i].bsums), _mm256_cvtepi8_epi16(sc8));
        const int32_t sumi = ck_hsum_i32(_mm256_sub_epi32(acc, _mm256_slli_epi32(offset, 2)));
        sum += ck_term(ck_h2f(&w[i].d), x[i].d, sumi);
    }
    return (float)sum;
}

#else
// Not an x86 CPU: the table never selects these; they exist so the target links.
float ck_dot_q4_0_avx2(int64_t n, const void *w, const void *x) { return ck_dot_q4_0_ref(n, w, x); }
float ck_dot_q5_0_avx2(int64_t n, const void *w, const void *x) { return ck_dot_q5_0_ref(n, w, x); }
float ck_dot_iq4_nl_avx2(int64_t n, const void *w, const void *x) { return ck_dot_iq4_nl_ref(n, w, x); }
float ck_dot_q5_1_avx2(int64_t n, const void *w, const void *x) { return ck_dot_q5_1_ref(n, w, x); }
float ck_dot_iq4_xs_avx2(int64_t n, const void *w, const void *x) { return ck_dot_iq4_xs_ref(n, w, x); }
float ck_dot_q2_K_avx2(int64_t n, const void *w, const void *x) { return ck_dot_q2_K_ref(n, w, x); }
float ck_dot_q3_K_avx2(int64_t n, const void *w, const void *x) { return ck_dot_q3_K_ref(n, w, x); }
#endif
