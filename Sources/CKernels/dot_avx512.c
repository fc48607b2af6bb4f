// AVX-512 VNNI multi-row kernels for the K-quants (Q4_K, Q5_K, Q6_K): one weight row against up to eight activation
// rows (prefill and batched decode). A weight block is unpacked once into four 64-value vectors; each activation row
// then takes, per vector, one maddubs (unsigned quant × int8 activation, pairs into int16) and one vpdpwssd (int16
// pairs × the sub-block scales as int16, accumulated into int32). Every intermediate range is bounded in a comment;
// none saturates or wraps, so each block's sum is the exact integer the scalar reference computes. The eight rows'
// int32 lanes are reduced with one transpose ladder and their block terms computed side by side in double lanes with
// exactly the operations of ck_term and ck_term_min (no FMA: the target has -ffp-contract=off), added to each row's
// sum in block order; so every output equals the scalar reference bit for bit. ck_dotn_lookup picks these only when
// the CPU and the OS allow them. For Q4_K and Q6_K, a mat-mul uses them only for rows longer than a tile takes
// (dot_avx512_tile.c) and the single-row kernels are dot_avx512_row.c's.
#include "ck_avx2.h"
#include "ck_avx512.h"

#if defined(__x86_64__) || defined(__i386__)

/// A Q4_K/Q5_K block unpacked once: q[c] holds sub-block 2c in its low 256 bits and 2c+1 in its high 256 bits (the
/// order of activation bytes 64c..64c+63), sc[c] the matching scales as int16, mins the eight mins each twice.
typedef struct {
    __m512i q[4];
    __m512i sc[4];
    __m256i mins;
} ck512_k4;

static inline CK_AVX512 void ck512_k4_scales(const uint8_t *packed, ck512_k4 *u) {
    uint8_t s[16];
    ck_k4_scales(packed, s);
    const __m128i v = _mm_loadu_si128((const __m128i *)s);
    const __m512i sv = _mm512_broadcast_i32x4(_mm_cvtepu8_epi16(v));  // s0..s7 as int16 in every 128-bit lane
    for (int c = 0; c < 4; c++) {
        const __m256i lo = _mm256_set1_epi16((short)(((4 * c + 1) << 8) | (4 * c)));      // scale 2c
        const __m256i hi = _mm256_set1_epi16((short)(((4 * c + 3) << 8) | (4 * c + 2)));  // scale 2c+1
        u->sc[c] = _mm512_shuffle_epi8(sv, _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1));
    }
    u->mins = _mm256_cvtepu8_epi16(_mm_unpackhi_epi8(v, v));
}

static inline CK_AVX512 void ck512_q4_K_unpack(const blk_q4_K *w, ck512_k4 *u) {
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    const __m512i shift = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(4), 1);
    ck512_k4_scales(w->scales, u);
    for (int c = 0; c < 4; c++) {
        const __m512i q = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(w->qs + 32 * c)));
        u->q[c] = _mm512_and_si512(_mm512_srlv_epi16(q, shift), m4);  // low nibbles | high nibbles
    }
}

/// Q5_K: the Q4_K nibbles plus bit j of qh[l] as bit 4 of sub-block j's quant. Each 16-bit shift moves bit 2c (low
/// half) or 2c+1 (high half) of every byte to bit 4 of the same byte (shifts of at most 4 bring no bit 4 in from the
/// neighbouring byte).
static inline CK_AVX512 void ck512_q5_K_unpack(const blk_q5_K *w, ck512_k4 *u) {
    const __m512i m4 = _mm512_set1_epi8(0x0F), bit4 = _mm512_set1_epi8(0x10);
    const __m512i shift = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(4), 1);
    ck512_k4_scales(w->scales, u);
    const __m512i hbits = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)w->qh));
    for (int c = 0; c < 4; c++) {
        const __m512i q = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(w->qs + 32 * c)));
        const int b = 2 * c;  // the bit of the low half; the high half takes b + 1
        const __m512i h = b + 1 <= 4
            ? _mm512_sllv_epi16(hbits, _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi16((short)(4 - b))),
                                                          _mm256_set1_epi16((short)(3 - b)), 1))
            : _mm512_srlv_epi16(hbits, _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi16((short)(b - 4))),
                                                          _mm256_set1_epi16((short)(b - 3)), 1));
        u->q[c] = _mm512_or_si512(_mm512_and_si512(_mm512_srlv_epi16(q, shift), m4), _mm512_and_si512(h, bit4));
    }
}

/// Σ_j sc_j·Σ q·y of one block as 16 int32 lanes. Quants ≤ 31 (unsigned) × int8 ≥ −128: maddubs pairs ≤ 7936 < 2^15;
/// vpdpwssd adds two pairs × a 6-bit scale per lane and step, four steps: < 2^22 per lane.
static inline CK_AVX512 __m512i ck512_k4_acc(const ck512_k4 *u, const int8_t *y) {
    __m512i acc = _mm512_setzero_si512();
    for (int c = 0; c < 4; c++) {
        const __m512i p = _mm512_maddubs_epi16(u->q[c], _mm512_loadu_si512((const void *)(y + 64 * c)));
        acc = ck512_dpwssd(acc, p, u->sc[c]);
    }
    return acc;
}

/// One row's block sums for the ladder: Σ sc·q·y in 128-bit lanes 0–1, Σ m_j·(bsum_2j + bsum_2j+1) in lanes 2–3
/// (bsums ≤ 16·128, times a 6-bit min, two per lane: < 2^19).
static inline CK_AVX512 __m512i ck512_k4_row(const ck512_k4 *u, const blk_q8_K *x) {
    const __m512i acc = ck512_k4_acc(u, x->qs);
    const __m256i acc8 = _mm256_add_epi32(_mm512_castsi512_si256(acc), _mm512_extracti64x4_epi64(acc, 1));
    const __m256i macc = _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)x->bsums), u->mins);
    return _mm512_inserti64x4(_mm512_castsi256_si512(acc8), macc, 1);
}

/// Eight rows' Q4_K/Q5_K block terms added to their sums: d·dx·sumi − dmin·dx·summ per double lane, as ck_term_min.
static inline CK_AVX512 __m512d ck512_k4_fold(__m512d sum, const void *dm, const __m512i rows[8], __m512d dx) {
    __m256i sumi, summ;
    ck512_ladder(rows, &sumi, &summ);
    const __m128d d = ck_h2f_pair(dm);
    const __m512d dw = _mm512_broadcastsd_pd(d), dmin = _mm512_broadcastsd_pd(_mm_unpackhi_pd(d, d));
    const __m512d t = _mm512_sub_pd(_mm512_mul_pd(_mm512_mul_pd(dw, dx), _mm512_cvtepi32_pd(sumi)),
                                    _mm512_mul_pd(_mm512_mul_pd(dmin, dx), _mm512_cvtepi32_pd(summ)));
    return _mm512_add_pd(sum, t);
}

#define CK512_ROW(vx, stride, k, i) ((const blk_q8_K *)((const uint8_t *)(vx) + (size_t)(k) * (stride)) + (i))

// One Q4_K/Q5_K weight row against `count` activation rows; `count` is a constant 8 in the common call, so the row
// loop unrolls and the eight row vectors stay in registers.
static inline __attribute__((always_inline)) CK_AVX512 void
ck512_k4_rows(int64_t n, const uint8_t *wbase, size_t wblock, int q5, const void *vx, size_t x_stride, int count,
              float *out) {
    __m512d sum = _mm512_setzero_pd();
    for (int64_t i = 0; i < n / QK_K; i++) {
        const uint8_t *wb = wbase + (size_t)i * wblock;
        ck512_prefetch(wb, (int)wblock);
        ck512_k4 u;
        if (q5) ck512_q5_K_unpack((const blk_q5_K *)wb, &u); else ck512_q4_K_unpack((const blk_q4_K *)wb, &u);
        __m512i rows[8];
        _Pragma("clang loop unroll(full)") for (int k = 0; k < 8; k++) {
            rows[k] = k < count ? ck512_k4_row(&u, CK512_ROW(vx, x_stride, k, i)) : _mm512_setzero_si512();
        }
        const __m512d dx = ck512_rows_f32(&CK512_ROW(vx, 0, 0, i)->d, x_stride, count);
        sum = ck512_k4_fold(sum, wb, rows, dx);  // d and dmin are the block's first four bytes in both types
    }
    ck512_store_rows(sum, count, out);
}

// Q4_K against up to eight activation rows; each output equals the scalar reference (and ck_dot_q4_K_avx2) bit for bit.
CK_AVX512 void ck_dotn_q4_K_avx512(int64_t n, const void *vw, const void *vx, size_t x_stride, int count,
                                   float *out) {
    if (count == CK_DOTN_MAX) {
        ck512_k4_rows(n, vw, sizeof(blk_q4_K), 0, vx, x_stride, CK_DOTN_MAX, out);
    } else {
        ck512_k4_rows(n, vw, sizeof(blk_q4_K), 0, vx, x_stride, count, out);
    }
}

// Q5_K against up to eight activation rows, each output as the scalar reference computes it.
CK_AVX512 void ck_dotn_q5_K_avx512(int64_t n, const void *vw, const void *vx, size_t x_stride, int count,
                                   float *out) {
    if (count == CK_DOTN_MAX) {
        ck512_k4_rows(n, vw, sizeof(blk_q5_K), 1, vx, x_stride, CK_DOTN_MAX, out);
    } else {
        ck512_k4_rows(n, vw, sizeof(blk_q5_K), 1, vx, x_stride, count, out);
    }
}

// Quants 0..63 (unsigned) × int8 ≥ −128: maddubs pairs ≤ 16128 < 2^15; vpdpwssd adds two pairs × an int8 scale per
// lane and step, four steps: ≤ 4·2·16128·128 < 2^24. The −32 offset goes through the activation's 16-value sums:
// Σ sc·(q−32)·y = Σ sc·q·y − 32·Σ sc·bsum (each madd lane ≤ 2·2048·128 = 2^19, times 32: 2^24), the exact integer
// the reference sums directly. Returns 16 int32 lanes whose sum is that integer.
static inline CK_AVX512 __m512i ck512_q6_K_row(const ck512_q6_K *u, const blk_q8_K *x) {
    __m512i acc = _mm512_setzero_si512();
    for (int p = 0; p < 4; p++) {
        const __m512i prod = _mm512_maddubs_epi16(u->q[p], _mm512_loadu_si512((const void *)(x->qs + 64 * p)));
        acc = ck512_dpwssd(acc, prod, u->sc[p]);
    }
    const __m256i offset = _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)x->bsums), u->sc16);
    return _mm512_sub_epi32(acc, _mm512_zextsi256_si512(_mm256_slli_epi32(offset, 5)));
}

static inline __attribute__((always_inline)) CK_AVX512 void
ck512_q6_K_rows(int64_t n, const blk_q6_K *w, const void *vx, size_t x_stride, int count, float *out) {
    __m512d sum = _mm512_setzero_pd();
    for (int64_t i = 0; i < n / QK_K; i++) {
        ck512_prefetch(&w[i], (int)sizeof(blk_q6_K));
        ck512_q6_K u;
        ck512_q6_K_unpack(&w[i], &u);
        __m512i rows[8];
        _Pragma("clang loop unroll(full)") for (int k = 0; k < 8; k++) {
            rows[k] = k < count ? ck512_q6_K_row(&u, CK512_ROW(vx, x_stride, k, i)) : _mm512_setzero_si512();
        }
        __m256i first, second;
        ck512_ladder(rows, &first, &second);
        const __m512d sumi = _mm512_cvtepi32_pd(_mm256_add_epi32(first, second));
        const __m512d dx = ck512_rows_f32(&CK512_ROW(vx, 0, 0, i)->d, x_stride, count);
        const __m512d dw = _mm512_set1_pd((double)ck_h2f(&w[i].d));
        sum = _mm512_add_pd(sum, _mm512_mul_pd(_mm512_mul_pd(dw, dx), sumi));  // ck_term per lane
    }
    ck512_store_rows(sum, count, out);
}

// Q6_K against up to eight activation rows, each output as the scalar reference computes it.
CK_AVX512 void ck_dotn_q6_K_avx512(int64_t n, const void *vw, const void *vx, size_t x_stride, int count,
                                   float *out) {
    if (count == CK_DOTN_MAX) {
        ck512_q6_K_rows(n, vw, vx, x_stride, CK_DOTN_MAX, out);
    } else {
        ck512_q6_K_rows(n, vw, vx, x_stride, count, out);
    }
}

#else
// Not an x86 CPU: the table never selects these; they exist so the target links.
void ck_dotn_q4_K_avx512(int64_t n, const void *w, const void *x, size_t x_stride, int count, float *out) {
    for (int k = 0; k < count; k++) out[k] = ck_dot_q4_K_ref(n, w, (const uint8_t *)x + (size_t)k * x_stride);
}
void ck_dotn_q5_K_avx512(int64_t n, const void *w, const void *x, size_t x_stride, int count, float *out) {
    for (int k = 0; k < count; k++) out[k] = ck_dot_q5_K_ref(n, w, (const uint8_t *)x + (size_t)k * x_stride);
}
void ck_dotn_q6_K_avx512(int64_t n, const void *w, const void *x, size_t x_stride, int count, float *out) {
    for (int k = 0; k < count; k++) out[k] = ck_dot_q6_K_ref(n, w, (const uint8_t *)x + (size_t)k * x_stride);
}
#endif
