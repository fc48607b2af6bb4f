// AVX2 kernels of the 16-row repacked layouts (ck_x16.h; the repacking is in dot_avx512_x16.c), for CPUs without
// AVX-512 VNNI. A 64-byte chunk of a group's block is two 256-bit vectors, rows 0-7 and rows 8-15, whose 32-bit lane r
// holds four values of one row; the four matching activation bytes are a 32-bit broadcast. Without vpdpbusd, a
// vpmaddubsw gives each lane two int16 sums of two products, and because a lane is one row, the eight vpmaddubsw of a
// Q4_K sub-block (32 values) add up in int16 before one vpmaddwd applies the row's scale. In the ggml layout (dot_avx2.c)
// every vpmaddubsw of 32 values needs its own vpmaddwd with its sub-block's scale, a shuffle to place that scale, and
// a horizontal sum per row and block, so a multiply port does about twice the work per value there.
//
// Every block's integer sums are the exact integers the scalar reference computes (ranges noted per kernel) and are
// folded per lane with the operations of ck_term / ck_term_min, in block order, in double; so each output equals the
// scalar reference on the ggml row, and the AVX-512 kernels of the same layout, bit for bit.
#include "CKernels.h"
#include "ck_avx2.h"
#include "ck_dot.h"
#include "ck_x16.h"

#include <string.h>

#if defined(__x86_64__) || defined(__i386__)

/// Bytes ahead that a 1-row Q4_K product prefetches into L1. Measured 2026-12-02 on a Xeon (Emerald Rapids) at the AVX2
/// level, decode-step harness (`DECODE_STEP_LEVEL=avx2 DECODE_STEP_X16_MIN=1,9`, weights in huge-page memory, 60
/// steps taking turns), a 1-token step repacked against the ggml rows: no software prefetch 1.20, 1.28 and 1.20× the
/// ggml rows' time, 4 KB into L2 (as the AVX-512 kernels' near prefetch) 1.05, 1.05, 1.07, 1.06 and 1.26×, 4 KB into L1
/// 1.02 and 1.06×, 2 KB into L1 0.97, 1.01 and 0.99×. (The AVX-512 1-row kernel does best with none: dot_avx512_x16.c.)
#define CK_X16_AVX2_ONE_ROW_PREFETCH 2048

/// sums[8] += d·dx·isum − dmin·dx·msum per lane (ck_term_min), or d·dx·isum when `dmin` is NULL (ck_term), for the 8
/// rows of one half of a group (`d`, `dmin`: that half's scales).
static inline __attribute__((always_inline)) CK_AVX2 void ck_x16_terms_avx2(double *sums, const float *d,
                                                                          const float *dmin, float dx, __m256i isum,
                                                                          __m256i msum) {
    const __m256d x = _mm256_set1_pd((double)dx);
    for (int q = 0; q < 2; q++) {
        const __m256d dw = _mm256_cvtps_pd(_mm_loadu_ps(d + 4 * q));
        const __m256d is = _mm256_cvtepi32_pd(q == 0 ? _mm256_castsi256_si128(isum) : _mm256_extracti128_si256(isum, 1));
        __m256d term = _mm256_mul_pd(_mm256_mul_pd(dw, x), is);
        if (dmin != NULL) {
            const __m256d dm = _mm256_cvtps_pd(_mm_loadu_ps(dmin + 4 * q));
            const __m256d ms = _mm256_cvtepi32_pd(q == 0 ? _mm256_castsi256_si128(msum)
                                                         : _mm256_extracti128_si256(msum, 1));
            term = _mm256_sub_pd(term, _mm256_mul_pd(_mm256_mul_pd(dm, x), ms));
        }
        _mm256_store_pd(sums + 4 * q, _mm256_add_pd(_mm256_load_pd(sums + 4 * q), term));
    }
}

/// The 32-bit value at `x` in every lane.
static inline CK_AVX2 __m256i ck_x16_bcast(const void *x) {
    int32_t v;
    memcpy(&v, x, sizeof v);
    return _mm256_set1_epi32(v);
}

/// The int16 scale pairs (sc_2p, sc_2p+1) of the 8 rows of `half` of a Q6_K group's block.
static inline CK_AVX2 __m256i ck_x16_scale_pairs(const blk_q6_Kx16 *b, int p, int half) {
    return _mm256_cvtepi8_epi16(_mm_load_si128((const __m128i *)(b->scale_pairs[p] + 16 * half)));
}

/// Writes `count` rows of 16 sums as floats, `y_stride` floats apart.
static inline CK_AVX2 void ck_x16_store_avx2(const double sums[][16], int count, float *y, size_t y_stride) {
    for (int a = 0; a < count; a++) {
        for (int q = 0; q < 4; q++) {
            _mm_storeu_ps(y + (size_t)a * y_stride + 4 * q, _mm256_cvtpd_ps(_mm256_load_pd(sums[a] + 4 * q)));
        }
    }
}

// Q4_K: vpmaddubsw of quants 0..15 and int8 activations gives pairs of at most 2·15·128 = 3840 in magnitude; the eight
// of a 32-value sub-block (4 chunks, low and high nibbles) add up to at most 30720 < 2^15 in an int16 lane. One
// vpmaddwd with the pair (scale, scale) gives scale·Σq·x per row, ≤ 63·61440 < 2^22; 8 sub-blocks < 2^25. Mins: pairs
// (m_s, m_s+1) times the pair of the activations' 32-value sums (bsums 2s + 2s+1, each ≤ 32·128 = 4096 as the quantizer
// writes them, and 2s+2 + 2s+3): 4 vpmaddwd per row and half, < 2^21.

/// One half (8 weight rows) of a Q4_K group's block against `A` (1-4) activation rows, their sums in registers (16
/// ymm registers hold the 8 unpacked weight vectors of a sub-block, 4 sums and the temporaries).
static inline __attribute__((always_inline)) CK_AVX2 void ck_x16_q4_K_half_avx2(const blk_q4_Kx16 *b, int half,
                                                                              const blk_q8_K *const *xr,
                                                                              const int16_t (*sums32)[8],
                                                                              const __m256i *mins, double (*sums)[16],
                                                                              const int A) {
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    __m256i acc[4];
    for (int a = 0; a < A; a++) acc[a] = _mm256_setzero_si256();
    _Pragma("clang loop unroll(disable)") for (int s = 0; s < 8; s++) {
        const __m256i scale = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(b->scales[s] + 8 * half)));
        const __m256i scale_pair = _mm256_or_si256(scale, _mm256_slli_epi32(scale, 16));
        __m256i lo[4], hi[4];
        for (int k = 0; k < 4; k++) {
            const __m256i v = ck_load(b->qs[4 * s + k] + 32 * half);
            lo[k] = _mm256_and_si256(v, m4);
            hi[k] = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
        }
        _Pragma("clang loop unroll(full)") for (int a = 0; a < A; a++) {
            const int8_t *xq = xr[a]->qs + 32 * s;
            __m256i part = _mm256_maddubs_epi16(lo[0], ck_x16_bcast(xq));
            part = _mm256_add_epi16(part, _mm256_maddubs_epi16(hi[0], ck_x16_bcast(xq + 4)));
            for (int k = 1; k < 4; k++) {
                part = _mm256_add_epi16(part, _mm256_maddubs_epi16(lo[k], ck_x16_bcast(xq + 8 * k)));
                part = _mm256_add_epi16(part, _mm256_maddubs_epi16(hi[k], ck_x16_bcast(xq + 8 * k + 4)));
            }
            acc[a] = _mm256_add_epi32(acc[a], _mm256_madd_epi16(part, scale_pair));
        }
    }
    for (int a = 0; a < A; a++) {
        __m256i macc = _mm256_madd_epi16(mins[0], ck_x16_bcast(&sums32[a][0]));
        for (int p = 1; p < 4; p++) {
            macc = _mm256_add_epi32(macc, _mm256_madd_epi16(mins[p], ck_x16_bcast(&sums32[a][2 * p])));
        }
        ck_x16_terms_avx2(sums[a] + 8 * half, b->d + 8 * half, b->dmin + 8 * half, xr[a]->d, acc[a], macc);
    }
}

/// `R` (1-8) activation rows against one Q4_K group.
static inline __attribute__((always_inline)) CK_AVX2 void ck_x16_q4_K_rows_avx2(int64_t n, const blk_q4_Kx16 *w,
                                                                              const uint8_t *x, size_t x_stride,
                                                                              float *y, size_t y_stride,
                                                                              const int prefetch, const int R) {
    _Alignas(32) double sums[8][16];
    memset(sums, 0, sizeof sums);
    const __m256i ones = _mm256_set1_epi16(1);
    for (int64_t i = 0; i < n / QK_K; i++) {
        const blk_q4_Kx16 *b = w + i;
        if (prefetch && R == 1) {
            for (size_t k = 0; k < sizeof *b; k += 64) {
                _mm_prefetch((const char *)b + CK_X16_AVX2_ONE_ROW_PREFETCH + k, _MM_HINT_T0);
            }
        } else if (prefetch) {
            ck_x16_prefetch(b, sizeof *b, R >= CK_X16_FAR_ROWS);
        }
        const blk_q8_K *xr[8];
        ck_x16_activation_blocks(x, x_stride, i, R, xr);
        _Alignas(16) int16_t sums32[8][8];  // per activation row, the 32-value sums of its block
        for (int a = 0; a < R; a++) {
            const __m256i pairs = _mm256_madd_epi16(ck_load(xr[a]->bsums), ones);
            _mm_store_si128((__m128i *)sums32[a],
                            _mm_packs_epi32(_mm256_castsi256_si128(pairs), _mm256_extracti128_si256(pairs, 1)));
        }
        _Pragma("clang loop unroll(full)") for (int half = 0; half < 2; half++) {
            __m256i mins[4];
            for (int s = 0; s < 8; s += 2) {
                const __m256i m0 = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(b->mins[s] + 8 * half)));
                const __m256i m1 = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(b->mins[s + 1] + 8 * half)));
                mins[s / 2] = _mm256_or_si256(m0, _mm256_slli_epi32(m1, 16));
            }
            // Activation rows in one group up to 4, else in two (5 = 2 + 3 ... 8 = 4 + 4).
            if (R <= 4) {
                ck_x16_q4_K_half_avx2(b, half, xr, sums32, mins, sums, R);
            } else {
                ck_x16_q4_K_half_avx2(b, half, xr, sums32, mins, sums, R / 2);
                ck_x16_q4_K_half_avx2(b, half, xr + R / 2, sums32 + R / 2, mins, sums + R / 2, R - R / 2);
            }
        }
    }
    ck_x16_store_avx2(sums, R, y, y_stride);
}

// Q6_K: vpmaddubsw of quants 0..63 and int8 activations gives pairs of at most 2·63·128 = 16128 in magnitude; a chunk's
// low and high values (8 of a row) add up to at most 32256 < 2^15 in an int16 lane, and one vpmaddwd per chunk with the
// pair (scale, scale) gives scale·Σq·x, |scale| ≤ 128: a 16-value sub-block within 128·129024 < 2^24, 16 of them <
// 2^28. The −32 offset comes from the activations' 16-value sums: Σ sc·(q−32)·x = Σ sc·q·x − 32·Σ sc·bsum, by
// vpmaddwd of the pairs (sc_2p, sc_2p+1) and (bsum_2p, bsum_2p+1), < 2^20; the difference is the exact integer the
// reference sums directly.

/// One half (8 weight rows) of a Q6_K group's block against `A` (1-4) activation rows, their sums in registers.
static inline __attribute__((always_inline)) CK_AVX2 void ck_x16_q6_K_half_avx2(const blk_q6_Kx16 *b, int half,
                                                                              const blk_q8_K *const *xr,
                                                                              double (*sums)[16], const int A) {
    const __m256i m4 = _mm256_set1_epi8(0x0F), m30 = _mm256_set1_epi8(0x30);
    // Within a vector of (sc_2p, sc_2p+1) int16 pairs: each lane's first scale twice, or its second twice.
    const __m256i first = _mm256_setr_epi8(0, 1, 0, 1, 4, 5, 4, 5, 8, 9, 8, 9, 12, 13, 12, 13,
                                           0, 1, 0, 1, 4, 5, 4, 5, 8, 9, 8, 9, 12, 13, 12, 13);
    const __m256i second = _mm256_setr_epi8(2, 3, 2, 3, 6, 7, 6, 7, 10, 11, 10, 11, 14, 15, 14, 15,
                                            2, 3, 2, 3, 6, 7, 6, 7, 10, 11, 10, 11, 14, 15, 14, 15);
    __m256i acc[4];
    for (int a = 0; a < A; a++) acc[a] = _mm256_setzero_si256();
    _Pragma("clang loop unroll(disable)") for (int s = 0; s < 16; s++) {
        const __m256i pairs = ck_x16_scale_pairs(b, s / 2, half);
        const __m256i scale = _mm256_shuffle_epi8(pairs, (s & 1) == 0 ? first : second);
        const __m256i qh = ck_load(b->qh[s] + 32 * half);
        __m256i lo[2], hi[2];
        for (int h = 0; h < 2; h++) {
            const __m256i v = ck_load(b->ql[2 * s + h] + 32 * half);
            const __m256i hk = h == 0 ? _mm256_slli_epi16(qh, 4) : qh;
            const __m256i hk1 = h == 0 ? _mm256_slli_epi16(qh, 2) : _mm256_srli_epi16(qh, 2);
            lo[h] = _mm256_or_si256(_mm256_and_si256(v, m4), _mm256_and_si256(hk, m30));
            hi[h] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(v, 4), m4), _mm256_and_si256(hk1, m30));
        }
        _Pragma("clang loop unroll(full)") for (int a = 0; a < A; a++) {
            const int8_t *xq = xr[a]->qs + 16 * s;
            for (int h = 0; h < 2; h++) {
                const __m256i part = _mm256_add_epi16(_mm256_maddubs_epi16(lo[h], ck_x16_bcast(xq + 8 * h)),
                                                      _mm256_maddubs_epi16(hi[h], ck_x16_bcast(xq + 8 * h + 4)));
                acc[a] = _mm256_add_epi32(acc[a], _mm256_madd_epi16(part, scale));
            }
        }
    }
    for (int a = 0; a < A; a++) {
        const blk_q8_K *xa = xr[a];
        __m256i offset = _mm256_setzero_si256();
        for (int p = 0; p < 8; p++) {
            const __m256i pairs = ck_x16_scale_pairs(b, p, half);
            offset = _mm256_add_epi32(offset, _mm256_madd_epi16(pairs, ck_x16_bcast(xa->bsums + 2 * p)));
        }
        const __m256i isum = _mm256_sub_epi32(acc[a], _mm256_slli_epi32(offset, 5));
        ck_x16_terms_avx2(sums[a] + 8 * half, b->d + 8 * half, NULL, xa->d, isum, isum);
    }
}

/// `R` (1-8) activation rows against one Q6_K group.
static inline __attribute__((always_inline)) CK_AVX2 void ck_x16_q6_K_rows_avx2(int64_t n, const blk_q6_Kx16 *w,
                                                                              const uint8_t *x, size_t x_stride,
                                                                              float *y, size_t y_stride,
                                                                              const int prefetch, const int R) {
    _Alignas(32) double sums[8][16];
    memset(sums, 0, sizeof sums);
    for (int64_t i = 0; i < n / QK_K; i++) {
        const blk_q6_Kx16 *b = w + i;
        if (prefetch) ck_x16_prefetch(b, sizeof *b, R >= CK_X16_FAR_ROWS);
        const blk_q8_K *xr[8];
        ck_x16_activation_blocks(x, x_stride, i, R, xr);
        _Pragma("clang loop unroll(full)") for (int half = 0; half < 2; half++) {
            if (R <= 4) {
                ck_x16_q6_K_half_avx2(b, half, xr, sums, R);
            } else {
                ck_x16_q6_K_half_avx2(b, half, xr, sums, R / 2);
                ck_x16_q6_K_half_avx2(b, half, xr + R / 2, sums + R / 2, R - R / 2);
            }
        }
    }
    ck_x16_store_avx2(sums, R, y, y_stride);
}

// One function per tile height (ck_x16.h).
CK_X16_HEIGHTS(CK_AVX2, ck_x16_q4_K_rows_avx2, blk_q4_Kx16)
CK_X16_HEIGHTS(CK_AVX2, ck_x16_q6_K_rows_avx2, blk_q6_Kx16)

CK_AVX2 void ck_x16_dot_q4_K_avx2(int64_t n, const void *w, const void *x, size_t x_stride, int count, float *y,
                                  size_t y_stride, int prefetch) {
    CK_X16_DISPATCH(ck_x16_q4_K_rows_avx2)
}

CK_AVX2 void ck_x16_dot_q6_K_avx2(int64_t n, const void *w, const void *x, size_t x_stride, int count, float *y,
                                  size_t y_stride, int prefetch) {
    CK_X16_DISPATCH(ck_x16_q6_K_rows_avx2)
}

#else

void ck_x16_dot_q4_K_avx2(int64_t n, const void *w, const void *x, size_t x_stride, int count, float *y,
                          size_t y_stride, int prefetch) {
    (void)n; (void)w; (void)x; (void)x_stride; (void)count; (void)y; (void)y_stride; (void)prefetch;
}
void ck_x16_dot_q6_K_avx2(int64_t n, const void *w, const void *x, size_t x_stride, int count, float *y,
                          size_t y_stride, int prefetch) {
    (void)n; (void)w; (void)x; (void)x_stride; (void)count; (void)y; (void)y_stride; (void)prefetch;
}

#endif
