// AVX-512 VNNI kernels for Q4_K and Q6_K weight rows against a tile of 4 to 8 Q8_K activation rows interleaved for
// them (batched decoding: the attention and output products of several sequences, every expert that several tokens
// share; prefill, in tiles of 8). The row-by-row multi-row kernels (dot_avx512.c) spend more of the two 512-bit ports
// on reductions than on products: one zmm of 16 int32 lanes per activation row and block, folded by a transpose
// ladder, plus each row's offset arithmetic, ~150 port slots a block for eight rows where the products take 64. Here
// the 64-bit lane m of every vector is activation row m: a broadcast load puts eight weight quants into all eight
// lanes, and the products go into one accumulator for all eight rows (Q6_K: maddubs, then vpdpwssd with the
// sub-block scale, also a broadcast load; Q4_K: vpdpbusd over a sub-block, then one vpdpwssd with its scale), and a
// block ends with one add of each lane pair. The −32 offset of Q6_K and the mins of Q4_K go through the activations'
// 16-value sums, interleaved the same way. Every block's sums are the exact integers the scalar reference computes
// (ranges noted per kernel) and are folded per row with the operations of ck_term / ck_term_min in block order, so
// each output equals the scalar reference (and the single-row kernels) bit for bit. A mat-mul runs weight rows in pairs
// against one tile (the ..._dot2_ kernels): the pair shares the tile's loads, and each row keeps its own arithmetic.
#include "ck_avx2.h"
#include "ck_avx512.h"

#if defined(__x86_64__) || defined(__i386__)

#define CK_TILE_QS 2048
#define CK_TILE_BSUMS 256

size_t ck_tile_bytes(int64_t n) { return (size_t)(n / QK_K) * CK_TILE_BLOCK_BYTES; }

/// Interleaves `count` (≤ 8) Q8_K activation rows of n values, `stride` bytes apart, into `tile` (ck_tile_bytes(n)
/// bytes, 64-byte aligned). Per block: group g (values 8g..8g+7) of row m at byte 64g + 8m; the sums of row m's
/// values 32v+16p..32v+16p+15 and the next 16 (bsums 4v+2p, 4v+2p+1) at 2048 + 64v + 8m + 4p; row m's d as a double
/// at 2304 + 8m. Rows past `count` are zero.
void ck_tile_q8_K(int64_t n, const void *x, size_t stride, int count, uint8_t *tile) {
    for (int64_t i = 0; i < n / QK_K; i++) {
        uint8_t *t = tile + (size_t)i * CK_TILE_BLOCK_BYTES;
        double *dx = (double *)(t + CK_TILE_QS + CK_TILE_BSUMS);
        for (int m = 0; m < CK_DOTN_MAX; m++) {
            if (m >= count) {
                for (int g = 0; g < 32; g++) memset(t + 64 * g + 8 * m, 0, 8);
                for (int v = 0; v < 4; v++) memset(t + CK_TILE_QS + 64 * v + 8 * m, 0, 8);
                dx[m] = 0.0;
                continue;
            }
            const blk_q8_K *b = (const blk_q8_K *)((const uint8_t *)x + (size_t)m * stride) + i;
            for (int g = 0; g < 32; g++) memcpy(t + 64 * g + 8 * m, b->qs + 8 * g, 8);
            for (int v = 0; v < 4; v++) memcpy(t + CK_TILE_QS + 64 * v + 8 * m, b->bsums + 4 * v, 8);
            dx[m] = (double)b->d;
        }
    }
}

/// acc + Σ of four unsigned × signed byte products per int32 lane (vpdpbusd), as one instruction (see ck512_dpwssd).
static inline CK_AVX512 __m512i ck_tile_dpbusd(__m512i acc, __m512i u8, __m512i s8) {
    __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(u8), "v"(s8));
    return acc;
}

/// Each row's block sum from an accumulator whose 64-bit lane m holds row m's two partial sums: 8 doubles.
static inline CK_AVX512 __m512d ck_tile_row_sums(__m512i acc) {
    const __m512i pairs = _mm512_add_epi32(acc, _mm512_srli_epi64(acc, 32));
    return _mm512_cvtepi32_pd(_mm512_cvtepi64_epi32(pairs));
}

// Q4_K · a tile, for R (1 or 2) weight rows at once: a pair shares every load of the tile (R = 2 is what a mat-mul
// runs: ~10 % less time per row in L2; the 32 vpdpbusd with their loads are about half of a block's time, unpacking,
// scales, mins and the double terms the rest). Each row keeps its own accumulators and
// arithmetic, so its outputs are the same bits either way. Per lane and sub-block a part ≤ 30720 in magnitude times
// a 6-bit scale, 4 sub-blocks per accumulator: < 2^23. Mins: bsums ≤ 2048 times a 6-bit min, two per lane and step,
// four steps: < 2^19.
/// Block `b`'s quants in value order (qs[32c + l]: low nibble value 64c + l, high nibble 64c + 32 + l), its scales
/// as int32 and its mins as int16 pairs (m0 m0 m1 m1 …).
static inline __attribute__((always_inline)) CK_AVX512 void ck_tile_q4_K_unpack(const blk_q4_K *b, uint8_t *q,
                                                                                int32_t *scales, int16_t *mins) {
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    for (int c = 0; c < 2; c++) {
        const __m512i v = _mm512_loadu_si512((const void *)(b->qs + 64 * c));
        const __m512i lo = _mm512_and_si512(v, m4), hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), m4);
        // value 128c + 64h + 32s + l: h = which 32 bytes of v, s = nibble
        _mm512_store_si512((void *)(q + 128 * c), _mm512_shuffle_i64x2(lo, hi, _MM_SHUFFLE(1, 0, 1, 0)));
        _mm512_store_si512((void *)(q + 128 * c + 64), _mm512_shuffle_i64x2(lo, hi, _MM_SHUFFLE(3, 2, 3, 2)));
    }
    const __m128i s = ck_k4_scales_vector(b->scales);
    _mm256_store_si256((__m256i *)scales, _mm256_cvtepu8_epi32(s));
    _mm256_store_si256((__m256i *)mins, _mm256_cvtepu8_epi16(_mm_unpackhi_epi8(s, s)));
}

static inline __attribute__((always_inline)) CK_AVX512 void ck_tile_q4_K_rows(int64_t n, const blk_q4_K *const *w,
                                                                              const uint8_t *tile, int count,
                                                                              float *const *out, const int R) {
    __m512d sum[2] = {_mm512_setzero_pd(), _mm512_setzero_pd()};
    // Per row: quants in value order; scale j as an int32 (one 32-bit broadcast per sub-block); mins m0 m0 m1 m1 …
    // as int16 (one 64-bit broadcast per step of the mins, which pairs sub-blocks 2v and 2v+1 with bsums 4v..4v+3).
    // Unpacked one block ahead into the other half of a double buffer: the broadcast loads then read stores made
    // an iteration earlier instead of waiting on the stores just issued.
    _Alignas(64) uint8_t q[2][2][QK_K];
    _Alignas(32) int32_t scales[2][2][8];
    _Alignas(32) int16_t mins[2][2][16];
    const int64_t nb = n / QK_K;
    if (nb > 0) {
        for (int r = 0; r < R; r++) ck_tile_q4_K_unpack(&w[r][0], q[0][r], scales[0][r], mins[0][r]);
    }
    for (int64_t i = 0; i < nb; i++) {
        const uint8_t *t = tile + (size_t)i * CK_TILE_BLOCK_BYTES;
        const int cur = (int)(i & 1);
        if (i + 1 < nb) {
            for (int r = 0; r < R; r++) {
                ck512_prefetch(&w[r][i + 1], (int)sizeof(blk_q4_K));
                ck_tile_q4_K_unpack(&w[r][i + 1], q[cur ^ 1][r], scales[cur ^ 1][r], mins[cur ^ 1][r]);
            }
        }
        // Sub-block j (groups 4j..4j+3): vpdpbusd sums its 16 products per lane into `part` (quants ≤ 15 × int8 ≥
        // −128: |part| ≤ 16·15·128 = 30720 < 2^15, so it is its own low int16 half), and one vpdpwssd with the scale
        // as the pair (scale, 0) adds part·scale: five uops for 32 values where maddubs + vpdpwssd take eight.
        __m512i acc[2][2], macc[2];
        for (int r = 0; r < R; r++) {
            acc[r][0] = acc[r][1] = macc[r] = _mm512_setzero_si512();
        }
        _Pragma("clang loop unroll(full)") for (int j = 0; j < 8; j++) {
            __m512i part[2] = {_mm512_setzero_si512(), _mm512_setzero_si512()};
            _Pragma("clang loop unroll(full)") for (int g = 4 * j; g < 4 * j + 4; g++) {
                const __m512i y = _mm512_load_si512((const void *)(t + 64 * g));
                for (int r = 0; r < R; r++) part[r] = ck_tile_dpbusd(part[r], ck512_broadcast64(q[cur][r] + 8 * g), y);
            }
            for (int r = 0; r < R; r++) {
                acc[r][j % 2] = ck512_dpwssd(acc[r][j % 2], part[r], ck512_broadcast32(&scales[cur][r][j]));
            }
        }
        _Pragma("clang loop unroll(full)") for (int v = 0; v < 4; v++) {
            const __m512i bsums = _mm512_load_si512((const void *)(t + CK_TILE_QS + 64 * v));
            for (int r = 0; r < R; r++) macc[r] = ck512_dpwssd(macc[r], bsums, ck512_broadcast64(&mins[cur][r][4 * v]));
        }
        const __m512d dx = _mm512_load_pd((const void *)(t + CK_TILE_QS + CK_TILE_BSUMS));
        for (int r = 0; r < R; r++) {
            const __m512i total = _mm512_add_epi32(acc[r][0], acc[r][1]);
            const __m128d dm = ck_h2f_pair(&w[r][i].d);
            const __m512d dw = _mm512_broadcastsd_pd(dm), dmin = _mm512_broadcastsd_pd(_mm_unpackhi_pd(dm, dm));
            const __m512d term = _mm512_sub_pd(_mm512_mul_pd(_mm512_mul_pd(dw, dx), ck_tile_row_sums(total)),
                                               _mm512_mul_pd(_mm512_mul_pd(dmin, dx), ck_tile_row_sums(macc[r])));
            sum[r] = _mm512_add_pd(sum[r], term);
        }
    }
    for (int r = 0; r < R; r++) ck512_store_rows(sum[r], count, out[r]);
}

CK_AVX512 void ck_tile_dot_q4_K_avx512(int64_t n, const void *w, const uint8_t *tile, int count, float *out) {
    const blk_q4_K *rows[1] = {w};
    float *outs[1] = {out};
    ck_tile_q4_K_rows(n, rows, tile, count, outs, 1);
}

CK_AVX512 void ck_tile_dot2_q4_K_avx512(int64_t n, const void *w0, const void *w1, const uint8_t *tile, int count,
                                        float *out0, float *out1) {
    const blk_q4_K *rows[2] = {w0, w1};
    float *outs[2] = {out0, out1};
    ck_tile_q4_K_rows(n, rows, tile, count, outs, 2);
}

// Q6_K · a tile, for R (1 or 2) weight rows at once (as Q4_K above). Quants 0..63 × int8 ≥ −128: maddubs pairs ≤
// 16128 < 2^15; vpdpwssd adds two pairs × an int8 scale per lane and group, 32 groups: < 2^28. The −32 offset: bsums
// ≤ 2048 times −32·scale (≤ 4096 in magnitude, an int16), two per lane and step, two steps per lane: < 2^25.
static inline __attribute__((always_inline)) CK_AVX512 void ck_tile_q6_K_rows(int64_t n, const blk_q6_K *const *w,
                                                                              const uint8_t *tile, int count,
                                                                              float *const *out, const int R) {
    __m512d sum[2] = {_mm512_setzero_pd(), _mm512_setzero_pd()};
    for (int64_t i = 0; i < n / QK_K; i++) {
        const uint8_t *t = tile + (size_t)i * CK_TILE_BLOCK_BYTES;
        // Per row: quants in value order; scale j (values 16j..16j+15) as an int16 pair; −32·scale j as int16
        // (bsums pair with scales 4v..4v+3).
        _Alignas(64) uint8_t q[2][QK_K];
        _Alignas(64) int32_t pairs[2][16];
        _Alignas(32) int16_t offsets[2][16];
        for (int r = 0; r < R; r++) {
            const blk_q6_K *b = &w[r][i];
            ck512_prefetch(b, (int)sizeof(blk_q6_K));
            ck512_q6_K u;
            ck512_q6_K_unpack(b, &u);
            for (int p = 0; p < 4; p++) _mm512_store_si512((void *)(q[r] + 64 * p), u.q[p]);
            const __m512i s32 = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)b->scales));
            const __m512i low = _mm512_and_si512(s32, _mm512_set1_epi32(0xFFFF));
            _mm512_store_si512((void *)pairs[r], _mm512_or_si512(low, _mm512_slli_epi32(s32, 16)));
            _mm256_store_si256((__m256i *)offsets[r],
                               _mm256_sub_epi16(_mm256_setzero_si256(), _mm256_slli_epi16(u.sc16, 5)));
        }
        __m512i acc[2][4];  // four chains per row: a vpdpwssd takes 5 cycles before the next may add
        for (int r = 0; r < R; r++) {
            for (int c = 0; c < 4; c++) acc[r][c] = _mm512_setzero_si512();
        }
        _Pragma("clang loop unroll(full)") for (int j = 0; j < 16; j++) {  // sub-block j: groups 2j, 2j+1
            __m512i scale[2];
            for (int r = 0; r < R; r++) scale[r] = ck512_broadcast32(&pairs[r][j]);
            _Pragma("clang loop unroll(full)") for (int g = 2 * j; g < 2 * j + 2; g++) {
                const __m512i y = _mm512_load_si512((const void *)(t + 64 * g));
                for (int r = 0; r < R; r++) {
                    const __m512i p = _mm512_maddubs_epi16(ck512_broadcast64(q[r] + 8 * g), y);
                    acc[r][g % 4] = ck512_dpwssd(acc[r][g % 4], p, scale[r]);
                }
            }
        }
        _Pragma("clang loop unroll(full)") for (int v = 0; v < 4; v++) {
            const __m512i bsums = _mm512_load_si512((const void *)(t + CK_TILE_QS + 64 * v));
            for (int r = 0; r < R; r++) acc[r][v] = ck512_dpwssd(acc[r][v], bsums, ck512_broadcast64(&offsets[r][4 * v]));
        }
        const __m512d dx = _mm512_load_pd((const void *)(t + CK_TILE_QS + CK_TILE_BSUMS));
        for (int r = 0; r < R; r++) {
            const __m512i total = _mm512_add_epi32(_mm512_add_epi32(acc[r][0], acc[r][1]),
                                                   _mm512_add_epi32(acc[r][2], acc[r][3]));
            const __m512d dw = _mm512_set1_pd((double)ck_h2f(&w[r][i].d));
            sum[r] = _mm512_add_pd(sum[r], _mm512_mul_pd(_mm512_mul_pd(dw, dx), ck_tile_row_sums(total)));  // ck_term
        }
    }
    for (int r = 0; r < R; r++) ck512_store_rows(sum[r], count, out[r]);
}

CK_AVX512 void ck_tile_dot_q6_K_avx512(int64_t n, const void *w, const uint8_t *tile, int count, float *out) {
    const blk_q6_K *rows[1] = {w};
    float *outs[1] = {out};
    ck_tile_q6_K_rows(n, rows, tile, count, outs, 1);
}

CK_AVX512 void ck_tile_dot2_q6_K_avx512(int64_t n, const void *w0, const void *w1, const uint8_t *tile, int count,
                                        float *out0, float *out1) {
    const blk_q6_K *rows[2] = {w0, w1};
    float *outs[2] = {out0, out1};
    ck_tile_q6_K_rows(n, rows, tile, count, outs, 2);
}

#else

size_t ck_tile_bytes(int64_t n) { (void)n; return 0; }
void ck_tile_q8_K(int64_t n, const void *x, size_t stride, int count, uint8_t *tile) {
    (void)n; (void)x; (void)stride; (void)count; (void)tile;
}
void ck_tile_dot_q4_K_avx512(int64_t n, const void *w, const uint8_t *tile, int count, float *out) {
    (void)n; (void)w; (void)tile; (void)count; (void)out;
}
void ck_tile_dot_q6_K_avx512(int64_t n, const void *w, const uint8_t *tile, int count, float *out) {
    (void)n; (void)w; (void)tile; (void)count; (void)out;
}
void ck_tile_dot2_q4_K_avx512(int64_t n, const void *w0, const void *w1, const uint8_t *tile, int count, float *out0,
                              float *out1) {
    (void)n; (void)w0; (void)w1; (void)tile; (void)count; (void)out0; (void)out1;
}
void ck_tile_dot2_q6_K_avx512(int64_t n, const void *w0, const void *w1, const uint8_t *tile, int count, float *out0,
                              float *out1) {
    (void)n; (void)w0; (void)w1; (void)tile; (void)count; (void)out0; (void)out1;
}

#endif
