// AVX2 row kernels for the types that dominate decode time (Q4_K, Q5_K, Q6_K, Q8_0, Q4_1), and multi-row versions
// of the K-quants for batches (each weight block unpacked once for up to eight activation rows). They are compiled with
// target attributes, not target-wide flags, so the binary still runs on a CPU without AVX2; ck_dot_lookup picks
// them only when the CPU has AVX2, FMA and F16C. Each block's integer sum is the same exact integer the scalar
// reference computes (maddubs/madd never saturate with these ranges, noted per kernel), and it is folded into the
// row sum by the same ck_term call in the same order, so the results equal the reference bit for bit.
#include "ck_avx2.h"

#if defined(__x86_64__) || defined(__i386__)

/// Σ w·x of one Q8_0 block pair as 8 int32 lanes. |w| ≤ 128 as unsigned and y ≠ -128 (activations are in
/// [-127, 127]), so maddubs pairs stay ≤ 2·128·127 < 2^15.
static inline CK_AVX2 __m256i ck_q8_0_lanes(const blk_q8_0 *w, const blk_q8_0 *x) {
    const __m256i qw = ck_load(w->qs), qx = ck_load(x->qs);
    const __m256i p = _mm256_maddubs_epi16(_mm256_sign_epi8(qw, qw), _mm256_sign_epi8(qx, qw));
    return _mm256_madd_epi16(p, _mm256_set1_epi16(1));
}

// Q8_0 · Q8_0, four blocks per step; the block sums are folded in block order as in the reference.
CK_AVX2 float ck_dot_q8_0_avx2(int64_t n, const void *vw, const void *vx) {
    const blk_q8_0 *w = vw, *x = vx;
    const int64_t nb = n / 32;
    double sum = 0.0;
    int64_t i = 0;
    for (; i + 4 <= nb; i += 4) {
        ck_prefetch(&w[i], 4 * (int)sizeof(blk_q8_0));
        int32_t sumi[4];
        _mm_storeu_si128((__m128i *)sumi, ck_hsum4_i32(ck_q8_0_lanes(&w[i], &x[i]), ck_q8_0_lanes(&w[i + 1], &x[i + 1]),
                                                       ck_q8_0_lanes(&w[i + 2], &x[i + 2]),
                                                       ck_q8_0_lanes(&w[i + 3], &x[i + 3])));
        sum = ck_fold4(sum, (const uint8_t *)&w[i].d, sizeof(blk_q8_0), &x[i], sumi);
    }
    for (; i < nb; i++) sum += ck_term(ck_h2f(&w[i].d), ck_h2f(&x[i].d), ck_hsum_i32(ck_q8_0_lanes(&w[i], &x[i])));
    return (float)sum;
}

/// Σ q·y of one Q4_1 block and its Q8_1 activations as 8 int32 lanes. Quants 0..15 (unsigned) × int8:
/// maddubs pairs ≤ 2·15·127.
static inline CK_AVX2 __m256i ck_q4_1_lanes(const blk_q4_1 *w, const blk_q8_1s *x) {
    const __m256i p = _mm256_maddubs_epi16(ck_nibbles16(w->qs), ck_load(x->qs));
    return _mm256_madd_epi16(p, _mm256_set1_epi16(1));
}

// Q4_1 · Q8_1, four blocks per step, folded in block order.
CK_AVX2 float ck_dot_q4_1_avx2(int64_t n, const void *vw, const void *vx) {
    const blk_q4_1 *w = vw;
    const blk_q8_1s *x = vx;
    const int64_t nb = n / 32;
    double sum = 0.0;
    int64_t i = 0;
    for (; i + 4 <= nb; i += 4) {
        ck_prefetch(&w[i], 4 * (int)sizeof(blk_q4_1));
        int32_t sumi[4];
        _mm_storeu_si128((__m128i *)sumi, ck_hsum4_i32(ck_q4_1_lanes(&w[i], &x[i]), ck_q4_1_lanes(&w[i + 1], &x[i + 1]),
                                                       ck_q4_1_lanes(&w[i + 2], &x[i + 2]),
                                                       ck_q4_1_lanes(&w[i + 3], &x[i + 3])));
        // The four blocks' terms side by side in double lanes (the same roundings as ck_term_bias in each lane),
        // then added to the row sum in block order.
        const __m256 wdm = _mm256_cvtph_ps(_mm_set_epi32((int)ck_u32(&w[i + 3].d), (int)ck_u32(&w[i + 2].d),
                                                         (int)ck_u32(&w[i + 1].d), (int)ck_u32(&w[i].d)));
        const __m256 xds = _mm256_set_m128(_mm_castpd_ps(_mm_loadh_pd(_mm_load_sd((const double *)&x[i + 2].d),
                                                                      (const double *)&x[i + 3].d)),
                                           _mm_castpd_ps(_mm_loadh_pd(_mm_load_sd((const double *)&x[i].d),
                                                                      (const double *)&x[i + 1].d)));
        const __m256i even_odd = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
        const __m256 wsplit = _mm256_permutevar8x32_ps(wdm, even_odd), xsplit = _mm256_permutevar8x32_ps(xds, even_odd);
        const __m256d dw = _mm256_cvtps_pd(_mm256_castps256_ps128(wsplit));
        const __m256d mw = _mm256_cvtps_pd(_mm256_extractf128_ps(wsplit, 1));
        const __m256d dx = _mm256_cvtps_pd(_mm256_castps256_ps128(xsplit));
        const __m256d sx = _mm256_cvtps_pd(_mm256_extractf128_ps(xsplit, 1));
        const __m256d si = _mm256_cvtepi32_pd(_mm_loadu_si128((const __m128i *)sumi));
        const __m256d t = _mm256_add_pd(_mm256_mul_pd(_mm256_mul_pd(dw, dx), si), _mm256_mul_pd(mw, sx));
        const __m128d lo = _mm256_castpd256_pd128(t), hi = _mm256_extractf128_pd(t, 1);
        sum += _mm_cvtsd_f64(lo);
        sum += _mm_cvtsd_f64(_mm_unpackhi_pd(lo, lo));
        sum += _mm_cvtsd_f64(hi);
        sum += _mm_cvtsd_f64(_mm_unpackhi_pd(hi, hi));
    }
    for (; i < nb; i++) {
        const int32_t sumi = ck_hsum_i32(ck_q4_1_lanes(&w[i], &x[i]));
        sum += ck_term_bias(ck_h2f(&w[i].d), x[i].d, sumi, ck_h2f(&w[i].m), x[i].s);
    }
    return (float)sum;
}

/// A Q4_K/Q5_K block's scales as int16 in both 128-bit lanes ([s0..s7 | s0..s7], for ck_scale16) and its mins
/// each repeated twice (m0 m0 m1 m1 … m7 m7 as int16, to madd with the sixteen 16-value activation sums).
static inline CK_AVX2 void ck_k4_vectors(const uint8_t *packed, __m256i *scales, __m256i *mins) {
    uint8_t s[16];
    ck_k4_scales(packed, s);
    const __m128i v = _mm_loadu_si128((const __m128i *)s);
    *scales = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(v));
    *mins = _mm256_cvtepu8_epi16(_mm_unpackhi_epi8(v, v));
}

/// Every int16 lane set to int16 element j of each 128-bit lane of `v` (one shuffle).
static inline CK_AVX2 __m256i ck_scale16(__m256i v, int j) {
    return _mm256_shuffle_epi8(v, _mm256_set1_epi16((short)(((2 * j + 1) << 8) | (2 * j))));
}

/// Σ sc_j·Σq·y over a K-quant block's 8 sub-blocks of 32, given the 4-bit (or 5-bit) quants of sub-blocks 2c and
/// 2c+1 for c = 0..3 in lo[c], hi[c]. maddubs pairs ≤ 2·31·127, times a 6-bit scale: < 2^20 per lane.
static inline CK_AVX2 __m256i ck_k4_dot(const __m256i lo[4], const __m256i hi[4], const int8_t *y, __m256i scales) {
    __m256i acc = _mm256_setzero_si256();
    for (int c = 0; c < 4; c++) {
        const __m256i plo = _mm256_maddubs_epi16(lo[c], ck_load(y + 64 * c));
        const __m256i phi = _mm256_maddubs_epi16(hi[c], ck_load(y + 64 * c + 32));
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(plo, ck_scale16(scales, 2 * c)));
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(phi, ck_scale16(scales, 2 * c + 1)));
    }
    return acc;
}

/// Folds a Q4_K/Q5_K block: sumi from the lanes in acc, summ = Σ m_j·(bsum_2j + bsum_2j+1), both exact.
static inline CK_AVX2 double ck_k4_term(const void *d, __m256i acc, __m256i mins, const blk_q8_K *x) {
    const __m256i macc = _mm256_madd_epi16(ck_load(x->bsums), mins);
    const __m128i sums = ck_hsum4_i32(acc, macc, _mm256_setzero_si256(), _mm256_setzero_si256());
    const __m128d dm = ck_h2f_pair(d);
    return ck_term_min(_mm_cvtsd_f64(dm), _mm_cvtsd_f64(_mm_unpackhi_pd(dm, dm)), x->d, _mm_cvtsi128_si32(sums),
                       _mm_extract_epi32(sums, 1));
}

/// A Q4_K block unpacked once: nibbles of the 8 sub-blocks, scales and mins (shared by every activation row).
static inline CK_AVX2 void ck_q4_K_unpack(const blk_q4_K *w, __m256i lo[4], __m256i hi[4], __m256i *scales,
                                          __m256i *mins) {
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    ck_k4_vectors(w->scales, scales, mins);
    for (int c = 0; c < 4; c++) {
        const __m256i q = ck_load(w->qs + 32 * c);
        lo[c] = _mm256_and_si256(q, m4);
        hi[c] = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
    }
}

// Q4_K · Q8_K.
CK_AVX2 float ck_dot_q4_K_avx2(int64_t n, const void *vw, const void *vx) {
    const blk_q4_K *w = vw;
    const blk_q8_K *x = vx;
    double sum = 0.0;
    for (int64_t i = 0; i < n / QK_K; i++) {
        ck_prefetch(&w[i], (int)sizeof(blk_q4_K));
        __m256i scales, mins, lo[4], hi[4];
        ck_q4_K_unpack(&w[i], lo, hi, &scales, &mins);
        sum += ck_k4_term(&w[i].d, ck_k4_dot(lo, hi, x[i].qs, scales), mins, &x[i]);
    }
    return (float)sum;
}

// Q4_K against up to eight activation rows: each block is unpacked once, and each row's sum takes exactly the
// steps of ck_dot_q4_K_avx2, so every output equals the single-row kernel's.
CK_AVX2 void ck_dotn_q4_K_avx2(int64_t n, const void *vw, const void *vx, size_t x_stride, int count,
                             float *out) {
    const blk_q4_K *w = vw;
    double sum[CK_DOTN_MAX] = {0};
    for (int64_t i = 0; i < n / QK_K; i++) {
        ck_prefetch(&w[i], (int)sizeof(blk_q4_K));
        __m256i scales, mins, lo[4], hi[4];
        ck_q4_K_unpack(&w[i], lo, hi, &scales, &mins);
        for (int k = 0; k < count; k++) {
            const blk_q8_K *x = (const blk_q8_K *)((const uint8_t *)vx + (size_t)k * x_stride) + i;
            sum[k] += ck_k4_term(&w[i].d, ck_k4_dot(lo, hi, x->qs, scales), mins, x);
        }
    }
    for (int k = 0; k < count; k++) out[k] = (float)sum[k];
}

/// A Q5_K block unpacked once: 5-bit quants of the 8 sub-blocks (bit j of qh[l] for sub-block j), scales, mins.
static inline CK_AVX2 void ck_q5_K_unpack(const blk_q5_K *w, __m256i lo[4], __m256i hi[4], __m256i *scales,
                                          __m256i *mins) {
    const __m256i m4 = _mm256_set1_epi8(0x0F), sixteen = _mm256_set1_epi8(16);
    ck_k4_vectors(w->scales, scales, mins);
    const __m256i hbits = ck_load(w->qh);
    for (int c = 0; c < 4; c++) {
        const __m256i q = ck_load(w->qs + 32 * c);
        const __m256i b0 = _mm256_set1_epi8((char)(1 << (2 * c))), b1 = _mm256_set1_epi8((char)(1 << (2 * c + 1)));
        const __m256i h0 = _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(hbits, b0), b0), sixteen);
        const __m256i h1 = _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(hbits, b1), b1), sixteen);
        lo[c] = _mm256_or_si256(_mm256_and_si256(q, m4), h0);
        hi[c] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), m4), h1);
    }
}

// Q5_K · Q8_K.
CK_AVX2 float ck_dot_q5_K_avx2(int64_t n, const void *vw, const void *vx) {
    const blk_q5_K *w = vw;
    const blk_q8_K *x = vx;
    double sum = 0.0;
    for (int64_t i = 0; i < n / QK_K; i++) {
        ck_prefetch(&w[i], (int)sizeof(blk_q5_K));
        __m256i scales, mins, lo[4], hi[4];
        ck_q5_K_unpack(&w[i], lo, hi, &scales, &mins);
        sum += ck_k4_term(&w[i].d, ck_k4_dot(lo, hi, x[i].qs, scales), mins, &x[i]);
    }
    return (float)sum;
}

// Q5_K against up to eight activation rows, each output as ck_dot_q5_K_avx2 computes it.
CK_AVX2 void ck_dotn_q5_K_avx2(int64_t n, const void *vw, const void *vx, size_t x_stride, int count,
                             float *out) {
    const blk_q5_K *w = vw;
    double sum[CK_DOTN_MAX] = {0};
    for (int64_t i = 0; i < n / QK_K; i++) {
        ck_prefetch(&w[i], (int)sizeof(blk_q5_K));
        __m256i scales, mins, lo[4], hi[4];
        ck_q5_K_unpack(&w[i], lo, hi, &scales, &mins);
        for (int k = 0; k < count; k++) {
            const blk_q8_K *x = (const blk_q8_K *)((const uint8_t *)vx + (size_t)k * x_stride) + i;
            sum[k] += ck_k4_term(&w[i].d, ck_k4_dot(lo, hi, x->qs, scales), mins, x);
        }
    }
    for (int k = 0; k < count; k++) out[k] = (float)sum[k];
}

// Unsigned quants 0..63 × int8: pairs ≤ 16002; times an int8 scale: < 2^22 per lane and group. The −32 offset is
// applied once per block through the activation's 16-value sums: Σ sc·(q−32)·y = Σ sc·q·y − 32·Σ sc·bsum, the same
// integer the reference sums directly (every lane stays below 2^26).
static inline CK_AVX2 int32_t ck_q6_K_sumi(const ck_q6_K_unpacked *u, const blk_q8_K *x) {
    __m256i acc = _mm256_setzero_si256();
    for (int h = 0; h < 2; h++) {
        for (int g = 0; g < 4; g++) {
            // Group g takes the half's scale 2g (low lane) and 2g+1 (high lane).
            const __m256i ctrl = _mm256_set_m128i(_mm_set1_epi16((short)(((4 * g + 3) << 8) | (4 * g + 2))),
                                                  _mm_set1_epi16((short)(((4 * g + 1) << 8) | (4 * g))));
            const __m256i p = _mm256_maddubs_epi16(u->q[h][g], ck_load(x->qs + 128 * h + 32 * g));
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p, _mm256_shuffle_epi8(u->half_scales[h], ctrl)));
        }
    }
    const __m256i offset = _mm256_madd_epi16(ck_load(x->bsums), u->scales16);
    return ck_hsum_i32(_mm256_sub_epi32(acc, _mm256_slli_epi32(offset, 5)));
}

// Q6_K · Q8_K.
CK_AVX2 float ck_dot_q6_K_avx2(int64_t n, const void *vw, const void *vx) {
    const blk_q6_K *w = vw;
    const blk_q8_K *x = vx;
    double sum = 0.0;
    for (int64_t i = 0; i < n / QK_K; i++) {
        ck_prefetch(&w[i], (int)sizeof(blk_q6_K));
        ck_q6_K_unpacked u;
        ck_q6_K_unpack(&w[i], &u);
        sum += ck_term(ck_h2f(&w[i].d), x[i].d, ck_q6_K_sumi(&u, &x[i]));
    }
    return (float)sum;
}

// Q6_K against up to eight activation rows, each output as ck_dot_q6_K_avx2 computes it.
CK_AVX2 void ck_dotn_q6_K_avx2(int64_t n, const void *vw, const void *vx, size_t x_stride, int count,
                             float *out) {
    const blk_q6_K *w = vw;
    double sum[CK_DOTN_MAX] = {0};
    for (int64_t i = 0; i < n / QK_K; i++) {
        ck_prefetch(&w[i], (int)sizeof(blk_q6_K));
        ck_q6_K_unpacked u;
        ck_q6_K_unpack(&w[i], &u);
        for (int k = 0; k < count; k++) {
            const blk_q8_K *x = (const blk_q8_K *)((const uint8_t *)vx + (size_t)k * x_stride) + i;
            sum[k] += ck_term(ck_h2f(&w[i].d), x->d, ck_q6_K_sumi(&u, x));
        }
    }
    for (int k = 0; k < count; k++) out[k] = (float)sum[k];
}

#else
// Not an x86 CPU: the table never selects these; they exist so the target links.
float ck_dot_q8_0_avx2(int64_t n, const void *w, const void *x) { return ck_dot_q8_0_ref(n, w, x); }
float ck_dot_q4_1_avx2(int64_t n, const void *w, const void *x) { return ck_dot_q4_1_ref(n, w, x); }
float ck_dot_q4_K_avx2(int64_t n, const void *w, const void *x) { return ck_dot_q4_K_ref(n, w, x); }
float ck_dot_q5_K_avx2(int64_t n, const void *w, const void *x) { return ck_dot_q5_K_ref(n, w, x); }
float ck_dot_q6_K_avx2(int64_t n, const void *w, const void *x) { return ck_dot_q6_K_ref(n, w, x); }
void ck_dotn_q4_K_avx2(int64_t n, const void *w, const void *x, size_t x_stride, int count, float *out) {
    for (int k = 0; k < count; k++) out[k] = ck_dot_q4_K_ref(n, w, (const uint8_t *)x + (size_t)k * x_stride);
}
void ck_dotn_q5_K_avx2(int64_t n, const void *w, const void *x, size_t x_stride, int count, float *out) {
    for (int k = 0; k < count; k++) out[k] = ck_dot_q5_K_ref(n, w, (const uint8_t *)x + (size_t)k * x_stride);
}
void ck_dotn_q6_K_avx2(int64_t n, const void *w, const void *x, size_t x_stride, int count, float *out) {
    for (int k = 0; k < count; k++) out[k] = ck_dot_q6_K_ref(n, w, (const uint8_t *)x + (size_t)k * x_stride);
}
#endif
