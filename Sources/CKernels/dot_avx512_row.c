// Single-row and few-rows (2–4) Q4_K and Q6_K kernels for the AVX-512 level, with the VNNI instructions: the
// memory-bound mat-vec of decoding, where a weight row meets one activation row, and the experts that a few of a
// batched step's tokens share. The AVX2 kernels were bound by the shuffle port, not by memory: a Q4_K block took ~28
// shuffle-port uops (eight scale broadcasts, the scale unpacking through general registers and back, two horizontal
// adds per block), ~40 cycles, so one thread streamed 10.7–13.7 GB/s even from L2. Here the scales are unpacked in a
// vector register, each sub-block's scale pair reaches its vector by a broadcast load (a load-port uop, not a
// shuffle), vpdpwssd folds the multiply-by-scale and the add into one uop on the two multiply ports, and two blocks
// share one horizontal reduction. The single-row kernels use 256-bit vectors: 512-bit integer uops run on two ports,
// 256-bit ones on three. Every block's integer sums are the exact integers
// the scalar reference computes (ranges noted per step) and are folded by the operations of ck_term_min in block
// order, so each result equals the scalar reference (and the AVX2 kernel) bit for bit.
#include "ck_avx2.h"
#include "ck_avx512.h"

#if defined(__x86_64__) || defined(__i386__)

/// acc + Σ pairs of a·b (int16 × int16 → int32) on 256-bit vectors, as one vpdpwssd (see ck512_dpwssd).
static inline CK_AVX512 __m256i ck256_dpwssd(__m256i acc, __m256i a, __m256i b) {
    __asm__("vpdpwssd %2, %1, %0" : "+v"(acc) : "v"(a), "v"(b));
    return acc;
}

/// The int32 at `p` in every lane, as a broadcast load (a load-port uop). Written with the intrinsic, clang forwards
/// the value from the store that wrote it and broadcasts it with shuffles, which is the port this file unloads.
static inline CK_AVX512 __m256i ck256_broadcast32(const int32_t *p) {
    __m256i v;
    __asm__("vpbroadcastd %1, %0" : "=v"(v) : "m"(*p));
    return v;
}

/// Writes each of a block's eight scales (bytes 0–7 of `s`) as an int16 pair, so one broadcast load gives a
/// sub-block's scale vector; returns the eight mins each repeated twice as int16 (m0 m0 m1 m1 … m7 m7), to madd with
/// the sixteen 16-value activation sums.
static inline CK_AVX512 __m256i ck256_k4_vectors(__m128i s, int32_t pairs[8]) {
    const __m128i s16 = _mm_cvtepu8_epi16(s);
    _mm_storeu_si128((__m128i *)pairs, _mm_unpacklo_epi16(s16, s16));
    _mm_storeu_si128((__m128i *)(pairs + 4), _mm_unpackhi_epi16(s16, s16));
    return _mm256_cvtepu8_epi16(_mm_unpackhi_epi8(s, s));
}

/// Σ_j sc_j·Σ q·y of one Q4_K block as 8 int32 lanes, and in *macc Σ m_j·(bsum_2j + bsum_2j+1) as 8 int32 lanes.
/// Quants 0..15 × int8 activations: maddubs pairs ≤ 2·15·128 < 2^15; vpdpwssd adds two pairs × a 6-bit scale per
/// lane and step, four steps per accumulator: < 2^21. bsums ≤ 16·128, times a 6-bit min, two per lane: < 2^19.
static inline CK_AVX512 __m256i ck256_q4_K_acc(const blk_q4_K *w, const blk_q8_K *x, __m256i *macc) {
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    int32_t pairs[8];
    const __m256i mins = ck256_k4_vectors(ck_k4_scales_vector(w->scales), pairs);
    __m256i acc_lo = _mm256_setzero_si256(), acc_hi = _mm256_setzero_si256();
    for (int c = 0; c < 4; c++) {
        const __m256i q = ck_load(w->qs + 32 * c);
        const __m256i plo = _mm256_maddubs_epi16(_mm256_and_si256(q, m4), ck_load(x->qs + 64 * c));
        const __m256i phi = _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(q, 4), m4),
                                                 ck_load(x->qs + 64 * c + 32));
        acc_lo = ck256_dpwssd(acc_lo, plo, ck256_broadcast32(&pairs[2 * c]));
        acc_hi = ck256_dpwssd(acc_hi, phi, ck256_broadcast32(&pairs[2 * c + 1]));
    }
    *macc = _mm256_madd_epi16(ck_load(x->bsums), mins);
    return _mm256_add_epi32(acc_lo, acc_hi);
}

/// Two consecutive blocks' terms, d·dx·sumi − dmin·dx·summ each with the roundings of ck_term_min, added to the row
/// sum in block order. sums = [sumi₀, summ₀, sumi₁, summ₁]; `dm` the first block's d, dmin, `block` the byte distance
/// to the second block's.
static inline CK_AVX512 double ck256_k4_fold2(double sum, const uint8_t *dm, size_t block, const blk_q8_K *x,
                                              __m128i sums) {
    const __m128i halves = _mm_setr_epi32((int)ck_u32(dm), (int)ck_u32(dm + block), 0, 0);
    const __m256d d = _mm256_cvtps_pd(_mm_cvtph_ps(halves));  // [d₀, dmin₀, d₁, dmin₁]
    const __m256d dx = _mm256_setr_pd(x[0].d, x[0].d, x[1].d, x[1].d);
    const __m256d t = _mm256_mul_pd(_mm256_mul_pd(d, dx), _mm256_cvtepi32_pd(sums));
    const __m128d t0 = _mm256_castpd256_pd128(t), t1 = _mm256_extractf128_pd(t, 1);
    sum += _mm_cvtsd_f64(_mm_sub_sd(t0, _mm_unpackhi_pd(t0, t0)));
    sum += _mm_cvtsd_f64(_mm_sub_sd(t1, _mm_unpackhi_pd(t1, t1)));
    return sum;
}

// Q4_K · Q8_K, two blocks per step.
CK_AVX512 float ck_dot_q4_K_avx512(int64_t n, const void *vw, const void *vx) {
    const blk_q4_K *w = vw;
    const blk_q8_K *x = vx;
    const int64_t nb = n / QK_K;
    double sum = 0.0;
    int64_t i = 0;
    for (; i + 2 <= nb; i += 2) {
        ck_prefetch(&w[i], 2 * (int)sizeof(blk_q4_K));
        __m256i macc0, macc1;
        const __m256i acc0 = ck256_q4_K_acc(&w[i], &x[i], &macc0);
        const __m256i acc1 = ck256_q4_K_acc(&w[i + 1], &x[i + 1], &macc1);
        sum = ck256_k4_fold2(sum, (const uint8_t *)&w[i].d, sizeof(blk_q4_K), &x[i],
                             ck_hsum4_i32(acc0, macc0, acc1, macc1));
    }
    for (; i < nb; i++) {
        __m256i macc;
        const __m256i acc = ck256_q4_K_acc(&w[i], &x[i], &macc);
        const __m128i sums = ck_hsum4_i32(acc, macc, _mm256_setzero_si256(), _mm256_setzero_si256());
        const __m128d dm = ck_h2f_pair(&w[i].d);
        sum += ck_term_min(_mm_cvtsd_f64(dm), _mm_cvtsd_f64(_mm_unpackhi_pd(dm, dm)), x[i].d, _mm_cvtsi128_si32(sums),
                           _mm_extract_epi32(sums, 1));
    }
    return (float)sum;
}

/// Σ sc·q·y − 32·Σ sc·bsum of one unpacked Q6_K block and one activation block as 8 int32 lanes (the block's exact
/// sumi, as ck_q6_K_sumi). Quants 0..63 × int8: maddubs pairs ≤ 2·63·128 < 2^15; vpdpwssd adds two pairs × an int8
/// scale per lane and step, four steps per accumulator: < 2^25. The offset: bsums ≤ 16·128 times an int8 scale, two
/// per lane, times 32: < 2^24.
static inline CK_AVX512 __m256i ck256_q6_K_row(const ck_q6_K_unpacked *u, const __m256i scales[2][4],
                                               const blk_q8_K *x) {
    __m256i acc[2] = {_mm256_setzero_si256(), _mm256_setzero_si256()};
    for (int h = 0; h < 2; h++) {
        for (int g = 0; g < 4; g++) {
            const __m256i p = _mm256_maddubs_epi16(u->q[h][g], ck_load(x->qs + 128 * h + 32 * g));
            acc[h] = ck256_dpwssd(acc[h], p, scales[h][g]);
        }
    }
    const __m256i offset = _mm256_madd_epi16(ck_load(x->bsums), u->scales16);
    return _mm256_sub_epi32(_mm256_add_epi32(acc[0], acc[1]), _mm256_slli_epi32(offset, 5));
}

/// A Q6_K block unpacked, with the int16 scale vector of each group: group g of half h takes the half's scale 2g in
/// its low 128-bit lane and 2g+1 in its high one.
static inline CK_AVX512 void ck256_q6_K_prepare(const blk_q6_K *w, ck_q6_K_unpacked *u, __m256i scales[2][4]) {
    ck_q6_K_unpack(w, u);
    for (int h = 0; h < 2; h++) {
        for (int g = 0; g < 4; g++) {
            const __m256i ctrl = _mm256_set_m128i(_mm_set1_epi16((short)(((4 * g + 3) << 8) | (4 * g + 2))),
                                                  _mm_set1_epi16((short)(((4 * g + 1) << 8) | (4 * g))));
            scales[h][g] = _mm256_shuffle_epi8(u->half_scales[h], ctrl);
        }
    }
}

static inline CK_AVX512 __m256i ck256_q6_K_acc(const blk_q6_K *w, const blk_q8_K *x) {
    ck_q6_K_unpacked u;
    __m256i scales[2][4];
    ck256_q6_K_prepare(w, &u, scales);
    return ck256_q6_K_row(&u, scales, x);
}

// Q6_K · Q8_K, two blocks per step.
CK_AVX512 float ck_dot_q6_K_avx512(int64_t n, const void *vw, const void *vx) {
    const blk_q6_K *w = vw;
    const blk_q8_K *x = vx;
    const int64_t nb = n / QK_K;
    double sum = 0.0;
    int64_t i = 0;
    for (; i + 2 <= nb; i += 2) {
        ck_prefetch(&w[i], 2 * (int)sizeof(blk_q6_K));
        const __m256i acc0 = ck256_q6_K_acc(&w[i], &x[i]), acc1 = ck256_q6_K_acc(&w[i + 1], &x[i + 1]);
        const __m128i sums = ck_hsum4_i32(acc0, acc1, _mm256_setzero_si256(), _mm256_setzero_si256());
        sum += ck_term(ck_h2f(&w[i].d), x[i].d, _mm_cvtsi128_si32(sums));
        sum += ck_term(ck_h2f(&w[i + 1].d), x[i + 1].d, _mm_extract_epi32(sums, 1));
    }
    for (; i < nb; i++) sum += ck_term(ck_h2f(&w[i].d), x[i].d, ck_hsum_i32(ck256_q6_K_acc(&w[i], &x[i])));
    return (float)sum;
}

#define CK_ROW(vx, stride, k, i) ((const blk_q8_K *)((const uint8_t *)(vx) + (size_t)(k) * (stride)) + (i))

/// 32 bytes at `a` in the low half and 32 at `b` in the high half of a zmm.
static inline CK_AVX512 __m512i ck_few_pair(const void *a, const void *b) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)a)),
                              _mm256_loadu_si256((const __m256i *)b), 1);
}

// Q4_K against 1…CK_FEW_ROWS activation rows (an expert that a few of a step's tokens share), two rows per zmm: the
// block's nibbles are unpacked once into both 256-bit halves and each half takes one row's activations, so a pair
// of rows costs the multiply uops of one row on 256-bit vectors. Each half's steps and ranges are those of
// ck256_q4_K_acc, and each row's block sums are folded exactly as in ck_dot_q4_K_avx512.
static inline __attribute__((always_inline)) CK_AVX512 void
ck_few_q4_K_rows(int64_t n, const void *vw, const void *vx, size_t x_stride, int count, float *out) {
    const blk_q4_K *w = vw;
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    double sum[CK_FEW_ROWS] = {0};
    for (int64_t i = 0; i < n / QK_K; i++) {
        ck_prefetch(&w[i], (int)sizeof(blk_q4_K));
        int32_t pairs[8];
        const __m512i mins = _mm512_broadcast_i64x4(ck256_k4_vectors(ck_k4_scales_vector(w[i].scales), pairs));
        __m512i lo[4], hi[4], sc[8];
        for (int c = 0; c < 4; c++) {
            const __m512i q = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(w[i].qs + 32 * c)));
            lo[c] = _mm512_and_si512(q, m4);
            hi[c] = _mm512_and_si512(_mm512_srli_epi16(q, 4), m4);
        }
        for (int j = 0; j < 8; j++) sc[j] = ck512_broadcast32(&pairs[j]);
        const __m128d dm = ck_h2f_pair(&w[i].d);
        const double d = _mm_cvtsd_f64(dm), dmin = _mm_cvtsd_f64(_mm_unpackhi_pd(dm, dm));
        _Pragma("clang loop unroll(full)") for (int k = 0; k < count; k += 2) {
            const blk_q8_K *a = CK_ROW(vx, x_stride, k, i), *b = CK_ROW(vx, x_stride, k + 1 < count ? k + 1 : k, i);
            __m512i acc_lo = _mm512_setzero_si512(), acc_hi = _mm512_setzero_si512();
            for (int c = 0; c < 4; c++) {
                acc_lo = ck512_dpwssd(acc_lo, _mm512_maddubs_epi16(lo[c], ck_few_pair(a->qs + 64 * c, b->qs + 64 * c)),
                                      sc[2 * c]);
                acc_hi = ck512_dpwssd(acc_hi, _mm512_maddubs_epi16(hi[c], ck_few_pair(a->qs + 64 * c + 32,
                                                                                     b->qs + 64 * c + 32)),
                                      sc[2 * c + 1]);
            }
            const __m512i acc = _mm512_add_epi32(acc_lo, acc_hi);
            const __m512i macc = _mm512_madd_epi16(ck_few_pair(a->bsums, b->bsums), mins);
            const __m128i sums = ck_hsum4_i32(_mm512_castsi512_si256(acc), _mm512_castsi512_si256(macc),
                                              _mm512_extracti64x4_epi64(acc, 1), _mm512_extracti64x4_epi64(macc, 1));
            sum[k] += ck_term_min(d, dmin, a->d, _mm_cvtsi128_si32(sums), _mm_extract_epi32(sums, 1));
            if (k + 1 < count) {
                sum[k + 1] += ck_term_min(d, dmin, b->d, _mm_extract_epi32(sums, 2), _mm_extract_epi32(sums, 3));
            }
        }
    }
    for (int k = 0; k < count; k++) out[k] = (float)sum[k];
}

// Q4_K against 1…CK_FEW_ROWS rows; each count a constant, so the row loop unrolls and the sums stay in registers.
CK_AVX512 void ck_dot_few_q4_K_avx512(int64_t n, const void *vw, const void *vx, size_t x_stride, int count,
                                      float *out) {
    switch (count) {
    case 1: ck_few_q4_K_rows(n, vw, vx, x_stride, 1, out); return;
    case 2: ck_few_q4_K_rows(n, vw, vx, x_stride, 2, out); return;
    case 3: ck_few_q4_K_rows(n, vw, vx, x_stride, 3, out); return;
    default: ck_few_q4_K_rows(n, vw, vx, x_stride, CK_FEW_ROWS, out); return;  // count is 1…CK_FEW_ROWS
    }
}

// Q6_K against 1…CK_FEW_ROWS activation rows, as ck_dot_few_q4_K_avx512 (on 256-bit vectors, two rows per reduction).
static inline __attribute__((always_inline)) CK_AVX512 void
ck_few_q6_K_rows(int64_t n, const void *vw, const void *vx, size_t x_stride, int count, float *out) {
    const blk_q6_K *w = vw;
    double sum[CK_FEW_ROWS] = {0};
    for (int64_t i = 0; i < n / QK_K; i++) {
        ck_prefetch(&w[i], (int)sizeof(blk_q6_K));
        ck_q6_K_unpacked u;
        __m256i scales[2][4];
        ck256_q6_K_prepare(&w[i], &u, scales);
        const double d = (double)ck_h2f(&w[i].d);
        _Pragma("clang loop unroll(full)") for (int k = 0; k < count; k += 2) {
            const blk_q8_K *a = CK_ROW(vx, x_stride, k, i), *b = CK_ROW(vx, x_stride, k + 1 < count ? k + 1 : k, i);
            const __m128i sums = ck_hsum4_i32(ck256_q6_K_row(&u, scales, a), ck256_q6_K_row(&u, scales, b),
                                              _mm256_setzero_si256(), _mm256_setzero_si256());
            sum[k] += ck_term(d, a->d, _mm_cvtsi128_si32(sums));
            if (k + 1 < count) sum[k + 1] += ck_term(d, b->d, _mm_extract_epi32(sums, 1));
        }
    }
    for (int k = 0; k < count; k++) out[k] = (float)sum[k];
}

CK_AVX512 void ck_dot_few_q6_K_avx512(int64_t n, const void *vw, const void *vx, size_t x_stride, int count,
                                      float *out) {
    switch (count) {
    case 1: ck_few_q6_K_rows(n, vw, vx, x_stride, 1, out); return;
    case 2: ck_few_q6_K_rows(n, vw, vx, x_stride, 2, out); return;
    case 3: ck_few_q6_K_rows(n, vw, vx, x_stride, 3, out); return;
    default: ck_few_q6_K_rows(n, vw, vx, x_stride, CK_FEW_ROWS, out); return;  // count is 1…CK_FEW_ROWS
    }
}

#else

float ck_dot_q4_K_avx512(int64_t n, const void *w, const void *x) { return ck_dot_q4_K_ref(n, w, x); }
float ck_dot_q6_K_avx512(int64_t n, const void *w, const void *x) { return ck_dot_q6_K_ref(n, w, x); }
void ck_dot_few_q4_K_avx512(int64_t n, const void *w, const void *x, size_t x_stride, int count, float *out) {
    for (int k = 0; k < count; k++) out[k] = ck_dot_q4_K_ref(n, w, (const uint8_t *)x + (size_t)k * x_stride);
}
void ck_dot_few_q6_K_avx512(int64_t n, const void *w, const void *x, size_t x_stride, int count, float *out) {
    for (int k = 0; k < count; k++) out[k] = ck_dot_q6_K_ref(n, w, (const uint8_t *)x + (size_t)k * x_stride);
}

#endif
