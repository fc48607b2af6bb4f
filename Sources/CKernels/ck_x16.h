// The 16-row repacked layouts of Q4_K and Q6_K (made once at load by dot_avx512_x16.c) and the helpers that their
// kernels share: the AVX-512 VNNI kernels (dot_avx512_x16.c), the AVX2 ones (dot_avx2_x16.c) and the AMX ones
// (dot_amx_x16.c).
#ifndef SPARROW_CK_X16_H
#define SPARROW_CK_X16_H

#include "ck_dot.h"

/// Q4_K, 16 rows: per group of 16 rows and 256-value block. Lane r of chunk c holds row r's values 8c..8c+3 in the
/// low nibbles of its 4 bytes and values 8c+4..8c+7 in the high nibbles.
typedef struct {
    float d[16];
    float dmin[16];
    uint8_t scales[8][16];  // [sub-block][row], 6-bit
    uint8_t mins[8][16];    // [sub-block][row], 6-bit
    uint8_t qs[32][64];     // [chunk][row · 4 + j]
} blk_q4_Kx16;
_Static_assert(sizeof(blk_q4_Kx16) == 2432, "q4_Kx16");

/// Q6_K, 16 rows: values' low 4 bits as Q4_Kx16's chunks; their high 2 bits in qh: byte (row · 4 + j) of entry e
/// holds, at bits 2k..2k+1, the high bits of value 16e + 4k + j.
typedef struct {
    float d[16];
    int8_t scale_pairs[8][32];  // [sub-block pair p][row · 2 + k]: scale of sub-block 2p + k
    uint8_t ql[32][64];     // [chunk][row · 4 + j]
    uint8_t qh[16][64];     // [16-value sub-block][row · 4 + j]
} blk_q6_Kx16;
_Static_assert(sizeof(blk_q6_Kx16) == 3392, "q6_Kx16");

#if defined(__x86_64__) || defined(__i386__)
#include "ck_avx512.h"

/// Bytes ahead of the block being computed that its near prefetches reach.
#define CK_X16_PREFETCH_NEAR 4096
/// Bytes ahead that the far prefetches of a product of `CK_X16_FAR_ROWS` or more activation rows reach.
#define CK_X16_PREFETCH_FAR 12288
#define CK_X16_FAR_ROWS 4

/// Prefetches the block `CK_X16_PREFETCH_NEAR` bytes past `block` (`bytes` long) into L2, not L1, and when `far`,
/// the block `CK_X16_PREFETCH_FAR` bytes past it as well. Measured 2026-11-30 from memory (2 threads, every block
/// streamed once): into L1 (_MM_HINT_T0, as the row kernels do), 8 activation rows streamed Q4_K attention matrices
/// at 9-10 GB/s and the Q6_K output matrix at 11-12; with no prefetch 12-14 and 12-14; into L2 at 4 KB 15-16 and
/// 20-21, at 8 KB 15-16 and 19, at 16-32 KB 14-16 and 14-17. (The row kernels measured no gain from the L2 hint.)
/// 2026-11-30 later, decode-step harness, 8 rows, variants alternating: the near prefetch alone streamed the output
/// matrix in 12.5-13.0 ms (20 GB/s), the near one at 2-5 KB or at 6.8-16 KB 13.6-18.7 ms; near and far (at 8-32 KB,
/// L2 or L3 hint alike) 9.9-10.3 ms (25 GB/s), about the 9.3 ms its arithmetic takes with the matrix in L2.
/// (No target attribute: the AVX2 kernels inline it too.)
static inline void ck_x16_prefetch(const void *block, size_t bytes, int far) {
    for (size_t k = 0; k < bytes; k += 64) _mm_prefetch((const char *)block + CK_X16_PREFETCH_NEAR + k, _MM_HINT_T1);
    if (!far) return;
    for (size_t k = 0; k < bytes; k += 64) _mm_prefetch((const char *)block + CK_X16_PREFETCH_FAR + k, _MM_HINT_T1);
}

/// Part `step` of `steps` of what ck_x16_prefetch issues for `block`: its lines split into `steps` runs of whole lines
/// (the k-th of its ⌈bytes / 64⌉ lines in run ⌊k · steps / lines⌋), each prefetched at the near distance and, when
/// `far`, the far one. The AVX-512 kernels call it once per step of their sub-block loop, so a block's prefetches go
/// out a few at a time between its arithmetic instead of together at its start, where they queued behind one another
/// for the core's few line-fill buffers. Measured 2026-12-02 16:35-16:50 UTC on 2 Emerald Rapids cores, decode-step
/// harness (a throwaway build switching the two step by step; weights in huge-page memory, 60-120-step runs): an
/// 8-token step of qwen3moe-8l 86.1 / 81.0 / 89.5 / 74.9 ms against 91.2 / 87.1 / 94.8 / 80.6 with the prefetches at
/// the block's start, a 1-token step 25.3 / 26.4 / 32.9 / 27.7 against 26.1 / 26.6 / 34.1 / 27.8; spreading only the
/// 4-row-and-more products' prefetches gave 8-token steps 4-6 % faster, and near or far alone about the same as both.
static inline void ck_x16_prefetch_part(const void *block, size_t bytes, int step, int steps, int far) {
    const int lines = (int)((bytes + 63) / 64);
    for (int k = (lines * step + steps - 1) / steps; k < (lines * (step + 1) + steps - 1) / steps; k++) {
        _mm_prefetch((const char *)block + CK_X16_PREFETCH_NEAR + 64 * k, _MM_HINT_T1);
        if (far) _mm_prefetch((const char *)block + CK_X16_PREFETCH_FAR + 64 * k, _MM_HINT_T1);
    }
}

// One function per tile height, each with the kernel inlined for its R alone: an unoptimised build then keeps one
// copy of the kernel's locals per frame (~14 KB) instead of eight in the dispatcher's (109 and 113 KB at -O0).
// `target` is the kernels' target attribute (CK_AVX512, CK_AVX2).
#define CK_X16_HEIGHT(target, kernel, blk, R)                                                                      \
    static __attribute__((noinline)) target void kernel##_##R(int64_t n, const void *w, const void *x,             \
                                                              size_t x_stride, float *y, size_t y_stride,          \
                                                              int prefetch) {                                      \
        kernel(n, (const blk *)w, (const uint8_t *)x, x_stride, y, y_stride, prefetch, R);                         \
    }
#define CK_X16_HEIGHTS(target, kernel, blk)                                                                        \
    CK_X16_HEIGHT(target, kernel, blk, 1) CK_X16_HEIGHT(target, kernel, blk, 2)                                    \
    CK_X16_HEIGHT(target, kernel, blk, 3) CK_X16_HEIGHT(target, kernel, blk, 4)                                    \
    CK_X16_HEIGHT(target, kernel, blk, 5) CK_X16_HEIGHT(target, kernel, blk, 6)                                    \
    CK_X16_HEIGHT(target, kernel, blk, 7) CK_X16_HEIGHT(target, kernel, blk, 8)

/// Calls the height function of `count` (1-8) rows that CK_X16_HEIGHTS made for `kernel`.
#define CK_X16_DISPATCH(kernel)                                                   \
    switch (count) {                                                              \
    case 1: kernel##_1(n, w, x, x_stride, y, y_stride, prefetch); break;          \
    case 2: kernel##_2(n, w, x, x_stride, y, y_stride, prefetch); break;          \
    case 3: kernel##_3(n, w, x, x_stride, y, y_stride, prefetch); break;          \
    case 4: kernel##_4(n, w, x, x_stride, y, y_stride, prefetch); break;          \
    case 5: kernel##_5(n, w, x, x_stride, y, y_stride, prefetch); break;          \
    case 6: kernel##_6(n, w, x, x_stride, y, y_stride, prefetch); break;          \
    case 7: kernel##_7(n, w, x, x_stride, y, y_stride, prefetch); break;          \
    case 8: kernel##_8(n, w, x, x_stride, y, y_stride, prefetch); break;          \
    default: break;                                                               \
    }

/// Block `i` of each of the `count` Q8_K activation rows `x_stride` bytes apart.
static inline void ck_x16_activation_blocks(const uint8_t *x, size_t x_stride, int64_t i, int count,
                                            const blk_q8_K **xr) {
    for (int a = 0; a < count; a++) xr[a] = (const blk_q8_K *)(x + (size_t)a * x_stride) + i;
}

/// sums[16] += d·dx·isum − dmin·dx·msum per lane (ck_term_min), or d·dx·isum when `dmin` is NULL (ck_term).
static inline __attribute__((always_inline)) CK_AVX512 void ck_x16_terms(double *sums, const float *d,
                                                                         const float *dmin, float dx, __m512i isum,
                                                                         __m512i msum) {
    const __m512d x = _mm512_set1_pd((double)dx);
    for (int h = 0; h < 2; h++) {
        const __m512d dw = _mm512_cvtps_pd(_mm256_loadu_ps(d + 8 * h));
        const __m512d is = _mm512_cvtepi32_pd(h == 0 ? _mm512_castsi512_si256(isum)
                                                     : _mm512_extracti64x4_epi64(isum, 1));
        __m512d term = _mm512_mul_pd(_mm512_mul_pd(dw, x), is);
        if (dmin != NULL) {
            const __m512d dm = _mm512_cvtps_pd(_mm256_loadu_ps(dmin + 8 * h));
            const __m512d ms = _mm512_cvtepi32_pd(h == 0 ? _mm512_castsi512_si256(msum)
                                                         : _mm512_extracti64x4_epi64(msum, 1));
            term = _mm512_sub_pd(term, _mm512_mul_pd(_mm512_mul_pd(dm, x), ms));
        }
        _mm512_store_pd(sums + 8 * h, _mm512_add_pd(_mm512_load_pd(sums + 8 * h), term));
    }
}

/// acc + Σ of four unsigned weight bytes × the four signed activation bytes at `x`, broadcast to every lane: one
/// vpdpbusd with an embedded 32-bit broadcast.
static inline CK_AVX512 __m512i ck_x16_dpbusd(__m512i acc, __m512i w, const void *x) {
    __asm__("vpdpbusd %2%{1to16%}, %1, %0" : "+v"(acc) : "v"(w), "m"(*(const int32_t *)x));
    return acc;
}

/// acc + the int16 pairs of `a` times those of the 32-bit value at `x` broadcast to every lane.
static inline CK_AVX512 __m512i ck_x16_dpwssd_bcast(__m512i acc, __m512i a, const void *x) {
    __asm__("vpdpwssd %2%{1to16%}, %1, %0" : "+v"(acc) : "v"(a), "m"(*(const int32_t *)x));
    return acc;
}

/// macc[a] = Σ over the block's sub-blocks of min × the 32-value activation sum, for activation rows 0..<R (Q4_K):
/// pairs of mins (m_s, m_s+1) times the pair of 32-value sums (bsums 2s + 2s+1, each ≤ 32·128 = 4096, and 2s+2 +
/// 2s+3; bsums as the quantizer writes them, each the sum of its 16 quants, so a pair's sum fits an int16): 4
/// vpdpwssd per row, < 2^21.
static inline __attribute__((always_inline)) CK_AVX512 void ck_x16_q4_K_mins(const blk_q4_Kx16 *b,
                                                                             const blk_q8_K *const *xr, const int R,
                                                                             __m512i *macc) {
    const __m256i ones = _mm256_set1_epi16(1);
    for (int a = 0; a < R; a++) macc[a] = _mm512_setzero_si512();
    _Alignas(16) int16_t sums32[16][8];  // per activation row, the 32-value sums of its block
    for (int a = 0; a < R; a++) {
        const __m256i pairs = _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)xr[a]->bsums), ones);
        _mm_store_si128((__m128i *)sums32[a], _mm256_cvtepi32_epi16(pairs));
    }
    _Pragma("clang loop unroll(full)") for (int s = 0; s < 8; s += 2) {
        const __m512i m0 = _mm512_cvtepu8_epi32(_mm_load_si128((const __m128i *)b->mins[s]));
        const __m512i m1 = _mm512_cvtepu8_epi32(_mm_load_si128((const __m128i *)b->mins[s + 1]));
        const __m512i mm = _mm512_or_si512(m0, _mm512_slli_epi32(m1, 16));
        for (int a = 0; a < R; a++) macc[a] = ck_x16_dpwssd_bcast(macc[a], mm, &sums32[a][s]);
    }
}

/// offsets[a][s] = −32 × activation row a's sum over 16-value sub-block s of the block (Q6_K), rows 0..<R.
static inline __attribute__((always_inline)) CK_AVX512 void ck_x16_q6_K_offsets(const blk_q8_K *const *xr, const int R,
                                                                                int32_t offsets[][16]) {
    for (int a = 0; a < R; a++) {
        const __m512i bsums = _mm512_cvtepi16_epi32(_mm256_loadu_si256((const __m256i *)xr[a]->bsums));
        _mm512_store_si512(offsets[a], _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_slli_epi32(bsums, 5)));
    }
}

/// Sub-block s's scale of each of the 16 rows (Q6_K), one per lane.
static inline __attribute__((always_inline)) CK_AVX512 __m512i ck_x16_q6_K_scale(const blk_q6_Kx16 *b, const int s) {
    const __m512i pairs = _mm512_cvtepi8_epi16(_mm256_load_si256((const __m256i *)b->scale_pairs[s / 2]));
    return _mm512_srai_epi32(s % 2 == 0 ? _mm512_slli_epi32(pairs, 16) : pairs, 16);
}

/// Chunk c = 2s + h of a Q6_K block (h 0 or 1) as bytes: `lo` holds values 8c..8c+3 (k = 2h) of each row, `hi`
/// values 8c+4..8c+7 (k + 1), the high bits taken from 2k in `qh` (sub-block s's high-bit entry) to bits 4-5.
static inline __attribute__((always_inline)) CK_AVX512 void ck_x16_q6_K_values(const blk_q6_Kx16 *b, const int s,
                                                                               const int h, const __m512i qh,
                                                                               __m512i *lo, __m512i *hi) {
    const __m512i m4 = _mm512_set1_epi8(0x0F), m30 = _mm512_set1_epi8(0x30);
    const __m512i v = _mm512_load_si512((const void *)b->ql[2 * s + h]);
    const __m512i hk = h == 0 ? _mm512_slli_epi16(qh, 4) : qh;
    const __m512i hk1 = h == 0 ? _mm512_slli_epi16(qh, 2) : _mm512_srli_epi16(qh, 2);
    *lo = _mm512_ternarylogic_epi32(_mm512_and_si512(v, m4), hk, m30, 0xF8);
    *hi = _mm512_ternarylogic_epi32(_mm512_and_si512(_mm512_srli_epi16(v, 4), m4), hk1, m30, 0xF8);
}

/// Writes `count` rows of 16 sums as floats, `y_stride` floats apart.
static inline CK_AVX512 void ck_x16_store(const double sums[][16], int count, float *y, size_t y_stride) {
    for (int a = 0; a < count; a++) {
        const __m256 lo = _mm512_cvtpd_ps(_mm512_load_pd(sums[a])), hi = _mm512_cvtpd_ps(_mm512_load_pd(sums[a] + 8));
        _mm512_storeu_ps(y + (size_t)a * y_stride, _mm512_insertf32x8(_mm512_castps256_ps512(lo), hi, 1));
    }
}

#endif

#endif
