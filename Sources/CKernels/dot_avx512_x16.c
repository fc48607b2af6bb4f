// Weights interleaved 16 rows at a time (an opt-in layout, made once at load) and their AVX-512 VNNI kernels. In the
// ggml layouts a row's 256-value block is one record, so a kernel works on one weight row against many activation
// rows and spends its ports on unpacking that row and on folding per-row sums (dot_avx512*.c). Here the 32-bit lane
// r of every vector is weight row r of a group of 16: a 64-byte load holds four values of each of 16 rows, the four
// matching activation bytes are a 32-bit broadcast folded into the vpdpbusd, and a block ends with one term per lane
// instead of a horizontal sum per row. Unpacking a group's block is shared by every activation row of the tile.
//
// Every block's integer sums are the exact integers the scalar reference computes (ranges noted per kernel) and are
// folded per lane with the operations of ck_term / ck_term_min, in block order, in double; so each output equals
// the scalar reference on the ggml row (and every other kernel) bit for bit, and a matrix may be run through either
// layout, for any batch, without changing a bit.
#include "CKernels.h"
#include "ck_avx512.h"
#include "ck_dot.h"
#include "ck_x16.h"

#include <string.h>

// MARK: - Layouts (portable; the structs are in ck_x16.h)

size_t ck_x16_block_bytes(uint32_t type) {
    switch (type) {
    case T_Q4_K: return sizeof(blk_q4_Kx16);
    case T_Q6_K: return sizeof(blk_q6_Kx16);
    default: return 0;
    }
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the repacking below reads quants as little-endian words"
#endif

/// Chunks of one row from 32 bytes `q` whose low nibbles are values lo..lo+31 and high nibbles hi..hi+31 (both
/// multiples of 32, as in Q4_K's `qs` and Q6_K's `ql`): chunk c = lo/8 + k takes the low nibbles of bytes 8k..8k+3
/// (values lo+8k..) and, in its high nibbles, those of bytes 8k+4..8k+7; chunk hi/8 + k the same from the high
/// nibbles. Word-wise on the 8-byte groups: no value is unpacked to a byte.
static void ck_x16_row_chunks(uint8_t chunks[32][64], int r, const uint8_t q[32], int lo, int hi) {
    for (int k = 0; k < 4; k++) {
        uint64_t x;
        memcpy(&x, q + 8 * k, sizeof x);
        const uint32_t low = (uint32_t)((x & 0x0F0F0F0Fu) | ((x >> 28) & 0xF0F0F0F0u));
        const uint32_t high = (uint32_t)(((x >> 4) & 0x0F0F0F0Fu) | ((x >> 32) & 0xF0F0F0F0u));
        memcpy(&chunks[lo / 8 + k][4 * r], &low, sizeof low);
        memcpy(&chunks[hi / 8 + k][4 * r], &high, sizeof high);
    }
}

/// Blocks ahead of the one being repacked that each of the 16 source rows is prefetched (16 streams 1-2 KB apart are
/// more than the hardware prefetcher follows). Measured 2026-11-30 repacking 64K rows × 2048 on 2 threads, source
/// in memory: Q6_K 3.1 GB/s with no prefetch, 5.9 / 6.1 / 5.7 at 1 / 2 / 4 blocks ahead; Q4_K 6.3, 7.9 / 8.1 / 7.4.
/// (Before, with every value unpacked to a byte and packed again, both ~1.9.)
#define CK_X16_REPACK_AHEAD 2

/// One group's block from block `i` of its 16 rows (`rows[r]`: row r's first byte).
static void ck_x16_q4_K_block(void *dst, const uint8_t *const rows[16], int64_t i) {
    blk_q4_Kx16 *out = dst;
    for (int r = 0; r < 16; r++) {
        const blk_q4_K *b = (const blk_q4_K *)rows[r] + i;
        for (size_t k = 0; k < sizeof *b; k += 64) __builtin_prefetch((const uint8_t *)(b + CK_X16_REPACK_AHEAD) + k);
        out->d[r] = ck_half(&b->d);
        out->dmin[r] = ck_half(&b->dmin);
        for (int j = 0; j < 8; j++) ck_scale_min_k4(j, b->scales, &out->scales[j][r], &out->mins[j][r]);
        // qs[32g..32g+31]: values 64g.. in the low nibbles, 64g+32.. in the high ones.
        for (int g = 0; g < 4; g++) ck_x16_row_chunks(out->qs, r, b->qs + 32 * g, 64 * g, 64 * g + 32);
    }
}

static void ck_x16_q6_K_block(void *dst, const uint8_t *const rows[16], int64_t i) {
    blk_q6_Kx16 *out = dst;
    for (int r = 0; r < 16; r++) {
        const blk_q6_K *b = (const blk_q6_K *)rows[r] + i;
        for (size_t k = 0; k < sizeof *b; k += 64) __builtin_prefetch((const uint8_t *)(b + CK_X16_REPACK_AHEAD) + k);
        out->d[r] = ck_half(&b->d);
        for (int s = 0; s < 16; s++) out->scale_pairs[s / 2][2 * r + s % 2] = b->scales[s];
        // Half h: ql[64h..64h+31] holds values 128h.. (low nibbles) and 128h+64.. (high); ql[64h+32..] holds
        // 128h+32.. and 128h+96...
        for (int h = 0; h < 2; h++) {
            ck_x16_row_chunks(out->ql, r, b->ql + 64 * h, 128 * h, 128 * h + 64);
            ck_x16_row_chunks(out->ql, r, b->ql + 64 * h + 32, 128 * h + 32, 128 * h + 96);
        }
        // High bits: value 128h + 32q + l has them at bits 2q of qh[32h + l]. Entry e = 8h + 2q + p covers values
        // 16e..16e+15 (l from 16p), and byte j of its lane takes, at bits 2k, those of value 16e + 4k + j: field q of
        // byte j of the k-th 32-bit word w[k] at qh + 32h + 16p. So the four entries (q = 0..3) of one (h, p) are a
        // transpose of 2-bit fields between the four words, done on all four bytes at once.
        for (int h = 0; h < 2; h++) {
            for (int p = 0; p < 2; p++) {
                uint32_t w[4];
                memcpy(w, b->qh + 32 * h + 16 * p, sizeof w);
                // Fields 0 and 2 of w[0], w[1] side by side (…_even), fields 1 and 3 (…_odd); then the same for w[2..3].
                const uint32_t ab_even = (w[0] & 0x33333333u) | ((w[1] & 0x33333333u) << 2);
                const uint32_t ab_odd = ((w[0] & 0xCCCCCCCCu) >> 2) | (w[1] & 0xCCCCCCCCu);
                const uint32_t cd_even = (w[2] & 0x33333333u) | ((w[3] & 0x33333333u) << 2);
                const uint32_t cd_odd = ((w[2] & 0xCCCCCCCCu) >> 2) | (w[3] & 0xCCCCCCCCu);
                const uint32_t fields[4] = {
                    (ab_even & 0x0F0F0F0Fu) | ((cd_even & 0x0F0F0F0Fu) << 4),
                    (ab_odd & 0x0F0F0F0Fu) | ((cd_odd & 0x0F0F0F0Fu) << 4),
                    ((ab_even >> 4) & 0x0F0F0F0Fu) | (cd_even & 0xF0F0F0F0u),
                    ((ab_odd >> 4) & 0x0F0F0F0Fu) | (cd_odd & 0xF0F0F0F0u),
                };
                for (int q = 0; q < 4; q++) memcpy(&out->qh[8 * h + 2 * q + p][4 * r], &fields[q], sizeof fields[q]);
            }
        }
    }
}

/// Activation rows from which a Q6_K product reads the repacked copy. Measured against 2-3 rows on the ggml few-rows
/// kernel, which matmul.c runs below its CK_TILE_MIN_ROWS (4): if that changes, measure this again.
#define CK_X16_Q6_K_MIN_ROWS 4

int ck_x16_takes_batch(uint32_t type, int64_t n_batch) {
    // Q4_K takes the repacked kernel from one activation row, Q6_K from four (CK_X16_Q6_K_MIN_ROWS); a single Q6_K row
    // streams faster through the ggml row kernel, and 2 or 3 rows through the ggml few-rows kernel. Measured 2026-11-30
    // in the decode-step harness (weights in huge-page memory, 2 threads), variants taking turns step by step
    // (`DECODE_STEP_X16_MIN=1,2`), 100-step runs: this machine's memory alternates between slow stretches, where both
    // streamed a 1-token step of qwen3moe-8l alike (15.8-16.6 ms), and fast ones, where Q4_K's 1-row products repacked
    // made the step 12.2 and 13.8 ms against 13.6 and 15.2 on the ggml rows (the ggml Q4_K row kernel is bound by its
    // own arithmetic at ~18 GB/s per core even from L2); an 8-token step, whose single-token experts are 1-row
    // products, 41.4 / 43.7 / 46.5 ms against 49.1 / 49.7 / 50.6 in fast stretches and alike in slow ones. That needs
    // the 1-row Q4_K kernel without software prefetch on that (AMD) machine: with it, 1-row Q4_K products were slower
    // than on the ggml rows (16.45-17.8 ms against 15.45, prefetch 4-32 KB ahead into L1 or L2). Intel cores stream
    // them faster with the prefetch, as fast as on the ggml rows (see ck_x16_dot_q4_K_avx512). A 1-row Q6_K product
    // repacked was slower with or without prefetch (the output matrix 7.9-10.6 ms with, 12.7-13.8 without, against 7.55
    // on the ggml rows). 2026-12-01, the same harness, 8-token steps, Q6_K products of 2-3 rows (the down matrices of
    // experts two or three tokens route to) on the ggml rows against repacked, taking turns step by step in 6 runs of
    // 200-210 steps: 0.4-2.4 % faster a step in every run (41.0 against 41.5 ms, 52.6 against 53.0, 54.6 against 55.9);
    // those products streamed at 24 GB/s repacked, against 30-33 for the other expert products.
    return type == T_Q4_K ? n_batch >= 1 : n_batch >= CK_X16_Q6_K_MIN_ROWS;
}

size_t ck_x16_bytes(uint32_t type, int64_t n_rows, int64_t n_cols) {
    const size_t block = ck_x16_block_bytes(type);
    if (block == 0 || n_rows <= 0 || n_cols <= 0 || n_rows % 16 != 0 || n_cols % QK_K != 0) return 0;
    return (size_t)(n_rows / 16) * (size_t)(n_cols / QK_K) * block;
}

typedef struct {
    void (*block)(void *dst, const uint8_t *const rows[16], int64_t i);
    const uint8_t *w;
    size_t row_bytes, block_bytes;
    int64_t nb;
    uint8_t *dst;
} ck_x16_repack_job;

/// Group `g` (rows 16g..16g+15), every block.
static void ck_x16_repack_part(void *ctx, int64_t g) {
    const ck_x16_repack_job *job = ctx;
    const uint8_t *rows[16];
    for (int r = 0; r < 16; r++) rows[r] = job->w + (size_t)(16 * g + r) * job->row_bytes;
    for (int64_t i = 0; i < job->nb; i++) {
        job->block(job->dst + ((size_t)g * (size_t)job->nb + (size_t)i) * job->block_bytes, rows, i);
    }
}

int ck_x16_repack(sparrow_pool *pool, uint32_t type, const void *w, int64_t n_rows, int64_t n_cols, void *dst) {
    if (ck_x16_bytes(type, n_rows, n_cols) == 0) return -1;
    const int64_t nb = n_cols / QK_K;
    const int q4 = type == T_Q4_K;
    ck_x16_repack_job job = {q4 ? ck_x16_q4_K_block : ck_x16_q6_K_block, w,
                             (size_t)nb * (q4 ? sizeof(blk_q4_K) : sizeof(blk_q6_K)), ck_x16_block_bytes(type), nb,
                             dst};
    sparrow_pool_for(pool, n_rows / 16, ck_x16_repack_part, &job);
    return 0;
}

#if defined(__x86_64__) || defined(__i386__)

// MARK: - Kernels (AVX-512 VNNI)

// Q4_K: per lane and 16 values, the vpdpbusd part is ≤ 16·15·128 = 30720 < 2^15 in magnitude, so it fits an int16. A
// 32-value sub-block's two parts go into one lane as the int16 pair (first half, second half), and one vpdpwssd with
// the pair (scale, scale) adds scale·(part0 + part1): each ≤ 63·61440 < 2^22, 8 of them < 2^25. Mins: pairs (m_s,
// m_s+1) times the pair of the activations' 32-value sums (bsums 2s + 2s+1, each ≤ 32·128 = 4096, and 2s+2 + 2s+3): 4
// per block, < 2^21. (That takes bsums as the quantizer writes them, each the sum of its 16 quants, so a pair's sum
// fits an int16; the scalar reference multiplies the bsums as stored.) So a block takes the VNNI port 76 times per
// activation row (64 vpdpbusd, 12 vpdpwssd) where one vpdpwssd per 16 values and one per sub-block's mins took it 88
// times. Measured 2026-12-01 with 8 activation rows, the weights in L2 (best of 7 runs, alternating): 95 cycles per
// block and activation row against 102; in the decode-step harness, the attention products of an 8-token step (builds
// alternating, 3 rounds) 4.8 ms against 5.3-5.7.
static inline __attribute__((always_inline)) CK_AVX512 void ck_x16_q4_K_rows(int64_t n, const blk_q4_Kx16 *w,
                                                                             const uint8_t *x, size_t x_stride,
                                                                             float *y, size_t y_stride,
                                                                             const int prefetch, const int R) {
    _Alignas(64) double sums[8][16];
    memset(sums, 0, sizeof sums);
    const __m512i m4 = _mm512_set1_epi8(0x0F), low_words = _mm512_set1_epi32(0xFFFF);
    for (int64_t i = 0; i < n / QK_K; i++) {
        const blk_q4_Kx16 *b = w + i;
        const blk_q8_K *xr[8];
        ck_x16_activation_blocks(x, x_stride, i, R, xr);
        __m512i acc[8];
        for (int a = 0; a < R; a++) acc[a] = _mm512_setzero_si512();
        _Pragma("clang loop unroll(disable)") for (int s = 0; s < 8; s++) {  // as in Q6_K below
            if (prefetch) ck_x16_prefetch_part(b, sizeof *b, s, 8, R >= CK_X16_FAR_ROWS);
            const __m512i scale = _mm512_cvtepu8_epi32(_mm_load_si128((const __m128i *)b->scales[s]));
            const __m512i scale_pair = _mm512_or_si512(scale, _mm512_slli_epi32(scale, 16));
            __m512i part[2][8];
            _Pragma("clang loop unroll(full)") for (int h = 0; h < 2; h++) {
                for (int a = 0; a < R; a++) part[h][a] = _mm512_setzero_si512();
                _Pragma("clang loop unroll(full)") for (int c = 4 * s + 2 * h; c < 4 * s + 2 * h + 2; c++) {
                    const __m512i v = _mm512_load_si512((const void *)b->qs[c]);
                    const __m512i lo = _mm512_and_si512(v, m4), hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
                    for (int a = 0; a < R; a++) {
                        part[h][a] = ck_x16_dpbusd(part[h][a], lo, xr[a]->qs + 8 * c);
                        part[h][a] = ck_x16_dpbusd(part[h][a], hi, xr[a]->qs + 8 * c + 4);
                    }
                }
            }
            for (int a = 0; a < R; a++) {  // (part1 << 16) | (part0 & 0xFFFF): the pair (part0, part1)
                const __m512i pair = _mm512_ternarylogic_epi32(_mm512_slli_epi32(part[1][a], 16), part[0][a],
                                                               low_words, 0xF8);
                acc[a] = ck512_dpwssd(acc[a], pair, scale_pair);
            }
        }
        __m512i macc[8];
        ck_x16_q4_K_mins(b, xr, R, macc);
        for (int a = 0; a < R; a++) ck_x16_terms(sums[a], b->d, b->dmin, xr[a]->d, acc[a], macc[a]);
    }
    ck_x16_store(sums, R, y, y_stride);
}

// Q6_K: per lane and 16-value sub-block, the reference's Σ (q − 32)·x: the vpdpbusd part of quants 0..63 × int8,
// started from −32 × the activations' sum over the sub-block (bsums, |bsum| ≤ 16·128, so the start is within ±2^16; as
// the quantizer writes them, each the sum of its 16 quants). Running values stay below 2^16 + 16·63·128 < 2^18 and the
// finished one, Σ (q − 32)·x, is within 16·32·128 = 2^16; times the scale (|scale| ≤ 128) with vpmulld, 16 sub-blocks:
// < 2^27. (The offset as its own pass, Σ scale·bsum by vpdpwssd with pairs of scales, took the VNNI port 8 more times
// per block and activation row. Measured 2026-12-01 with 8 activation rows, the weights in L2, best of 7 runs: 99
// cycles per block and activation row against 102.5; the output matrix of an 8-token step took the same time either
// way.)
static inline __attribute__((always_inline)) CK_AVX512 void ck_x16_q6_K_rows(int64_t n, const blk_q6_Kx16 *w,
                                                                             const uint8_t *x, size_t x_stride,
                                                                             float *y, size_t y_stride,
                                                                             const int prefetch, const int R) {
    _Alignas(64) double sums[8][16];
    memset(sums, 0, sizeof sums);
    for (int64_t i = 0; i < n / QK_K; i++) {
        const blk_q6_Kx16 *b = w + i;
        const blk_q8_K *xr[8];
        ck_x16_activation_blocks(x, x_stride, i, R, xr);
        _Alignas(64) int32_t offsets[8][16];
        ck_x16_q6_K_offsets(xr, R, offsets);
        __m512i acc[8];
        for (int a = 0; a < R; a++) acc[a] = _mm512_setzero_si512();
        // Sub-blocks one at a time: unrolled, the compiler hoists every unpack ahead and spills them.
        _Pragma("clang loop unroll(disable)") for (int s = 0; s < 16; s++) {
            if (prefetch) ck_x16_prefetch_part(b, sizeof *b, s, 16, R >= CK_X16_FAR_ROWS);
            const __m512i scale = ck_x16_q6_K_scale(b, s);
            const __m512i qh = _mm512_load_si512((const void *)b->qh[s]);
            __m512i part[8];
            for (int a = 0; a < R; a++) part[a] = _mm512_set1_epi32(offsets[a][s]);
            _Pragma("clang loop unroll(full)") for (int c = 2 * s; c < 2 * s + 2; c++) {
                __m512i lo, hi;
                ck_x16_q6_K_values(b, s, c - 2 * s, qh, &lo, &hi);
                for (int a = 0; a < R; a++) {
                    part[a] = ck_x16_dpbusd(part[a], lo, xr[a]->qs + 8 * c);
                    part[a] = ck_x16_dpbusd(part[a], hi, xr[a]->qs + 8 * c + 4);
                }
            }
            for (int a = 0; a < R; a++) acc[a] = _mm512_add_epi32(acc[a], _mm512_mullo_epi32(part[a], scale));
        }
        for (int a = 0; a < R; a++) ck_x16_terms(sums[a], b->d, NULL, xr[a]->d, acc[a], acc[a]);
    }
    ck_x16_store(sums, R, y, y_stride);
}

// One function per tile height (ck_x16.h).
CK_X16_HEIGHTS(CK_AVX512, ck_x16_q4_K_rows, blk_q4_Kx16)
CK_X16_HEIGHTS(CK_AVX512, ck_x16_q6_K_rows, blk_q6_Kx16)

// A 1-row Q4_K product prefetches (ck_x16_prefetch_part: 4 KB ahead into L2) except on AMD family 25 (Zen 4; see
// sparrow_x16_row_prefetch). Measured 2026-12-02 on 2 Emerald Rapids cores (the prefetch then issued at each block's
// start), decode-step harness (weights in memory), variants taking turns step by step: a 1-token step of qwen3moe-8l
// took 27.4 / 29.2 / 30.5 / 24.1 ms with the prefetch against 31.9 / 30.9 / 33.0 / 27.2 without (and 24.5 / 25.0 on
// the ggml rows), an 8-token step 77.6 / 82.6 / 76.1 / 80.2 against 89.0 / 95.5 / 85.6 / 90.5 (76.9 / 83.1 on the
// ggml rows); a throwaway loop streaming 1 GB of Q4_K groups on 2 threads, 15 rounds alternating: 20.3 GB/s median
// with it, 14.7 without, 23.4 for a bare read. On 2 Zen 5 cores (AMD family 26, 2026-12-02 18:25-18:31, the same
// harness, the prefetch spread as now): a 1-token step 14.33 / 13.32 / 12.43 / 10.02 / 13.54 / 12.74 ms with it against
// 16.03 / 14.21 / 13.64 / 10.91 / 15.01 / 14.67 without, an 8-token step 42.63 / 38.26 / 30.11 / 35.30 / 39.13 / 38.06
// against 49.13 / 43.95 / 35.76 / 39.74 / 43.73 / 41.95. (Sapphire Rapids, 2026-12-01: a throwaway 1-row prefetch came
// within 3-4 % of the ggml rows, which beat the repacked kernel without it by about 13 %.) On Zen 4 (2026-11-30) the
// prefetch, issued at each block's start, made 1-token steps slower than the ggml rows (16.45-17.8 ms against 15.45)
// where the kernel without it was faster (12.2-13.8 against 13.6-15.2): see ck_x16_takes_batch. The spread prefetch
// is unmeasured there.
CK_AVX512 void ck_x16_dot_q4_K_avx512(int64_t n, const void *w, const void *x, size_t x_stride, int count, float *y,
                                      size_t y_stride, int prefetch) {
    if (count == 1 && !ck_x16_row_prefetch()) prefetch = 0;
    CK_X16_DISPATCH(ck_x16_q4_K_rows)
}

CK_AVX512 void ck_x16_dot_q6_K_avx512(int64_t n, const void *w, const void *x, size_t x_stride, int count, float *y,
                                      size_t y_stride, int prefetch) {
    CK_X16_DISPATCH(ck_x16_q6_K_rows)
}

#else

void ck_x16_dot_q4_K_avx512(int64_t n, const void *w, const void *x, size_t x_stride, int count, float *y,
                            size_t y_stride, int prefetch) {
    (void)n; (void)w; (void)x; (void)x_stride; (void)count; (void)y; (void)y_stride; (void)prefetch;
}
void ck_x16_dot_q6_K_avx512(int64_t n, const void *w, const void *x, size_t x_stride, int count, float *y,
                            size_t y_stride, int prefetch) {
    (void)n; (void)w; (void)x; (void)x_stride; (void)count; (void)y; (void)y_stride; (void)prefetch;
}

#endif
