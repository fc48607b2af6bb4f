// AMX kernels for the 16-row repacked layouts (ck_x16.h): a group of 16 weight rows against up to 16 activation rows
// per call, meant for the products whose batch makes the AVX-512 VNNI kernels (dot_avx512_x16.c) bound by their
// arithmetic (8-sequence decoding's attention and output matrices, prefill). Opt-in (SPARROW_AMX=on): not yet faster
// than the VNNI kernels (see ck_amx_products_enabled). Where the VNNI kernel spends one vpdpbusd per four
// values, weight row lane and activation row, one TDPBSUD multiplies a sub-block of every activation row (tile A:
// rows of the Q8_K quants, read in place with the activation rows' stride) by that sub-block of the 16 weight rows
// (tile B: the layout's chunks unpacked to bytes, which is already the tile's VNNI order: row k of B holds values
// 4k..4k+3 of each weight row), into a tile of 16 int32 sums per activation row. Each sub-block's sums are stored and
// then scaled and added per lane as in the VNNI kernel.
//
// Every sum is the same exact integer as in the VNNI kernel and the scalar reference (TDPBSUD adds signed × unsigned
// byte products in int32 without saturating; ranges below), and the float part is the VNNI kernel's ck_x16_terms,
// in block order: each output equals the scalar reference on the ggml row bit for bit, whichever kernel a product
// takes.
#include "CKernels.h"
#include "ck_dot.h"
#include "ck_x16.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#if defined(__linux__) && (defined(__x86_64__) || defined(__i386__))
#include <sys/syscall.h>
#include <unistd.h>
#endif

int sparrow_amx_usable(uint32_t cpuid7_edx, uint64_t xcr0) {
    const uint32_t tile_int8 = (1u << 24) | (1u << 25);  // AMX-TILE, AMX-INT8
    const uint64_t state = (1ull << 17) | (1ull << 18);  // XTILECFG, XTILEDATA
    return (cpuid7_edx & tile_int8) == tile_int8 && (xcr0 & state) == state;
}

#if defined(__linux__) && (defined(__x86_64__) || defined(__i386__))
#include <cpuid.h>

static uint64_t ck_amx_xgetbv0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

/// Whether the CPU and OS have AMX-INT8 and Linux lets this process use the tile data (ARCH_REQ_XCOMP_PERM, asked once
/// for the whole process).
static int ck_amx_detect(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || (c & (1u << 27)) == 0 || __get_cpuid_max(0, NULL) < 7) return 0;
    __cpuid_count(7, 0, a, b, c, d);
    if (!sparrow_amx_usable(d, ck_amx_xgetbv0()) || !ck_has_avx512()) return 0;
    const long arch_req_xcomp_perm = 0x1023, xfeature_xtiledata = 18;
    return syscall(SYS_arch_prctl, arch_req_xcomp_perm, xfeature_xtiledata) == 0;
}
#else
static int ck_amx_detect(void) { return 0; }
#endif

int ck_has_amx(void) {
    static _Atomic int cached = -1;
    int known = atomic_load_explicit(&cached, memory_order_acquire);
    if (known < 0) {
        known = ck_amx_detect();
        atomic_store_explicit(&cached, known, memory_order_release);
    }
    return known;
}

/// Activation rows from which a product takes the AMX kernel, when products take it at all.
#define CK_X16_AMX_MIN_ROWS 4

/// Whether products take the AMX kernels: only when SPARROW_AMX is "on" or "1". They are slower than the VNNI kernels
/// so far. Measured 2026-12-01 on 2 Sapphire Rapids cores, one thread, a 2048 × 2048 matrix repacked (2.4 / 3.4 MB,
/// from L3), ns per 16-row block against the VNNI kernel: Q4_K 8 activation rows 364 against 283, 16 rows 513 against
/// 525; Q6_K 527 against 349 and 1020 against 618. Of Q4_K's 543 ns with 16 rows, the tile work alone (eight
/// TDPBSUD of one sub-block each with their loads and stores, no unpacking, no scaling) took 212: each sub-block's
/// multiply waits for its tiles, about 26 ns, where independent TDPBSUDs issue every 7-11 ns; the per-sub-block
/// scaling of the stored sums took ~260 and the unpacking ~140. What would make them pay: TDPBSUDs over 64 values
/// (two sub-blocks as separate A rows of zero-padded activations, built once per product), blocks pipelined so that
/// one block's tiles overlap the previous one's scaling.
static int ck_amx_products_enabled(void) {
    static _Atomic int cached = -1;
    int known = atomic_load_explicit(&cached, memory_order_acquire);
    if (known < 0) {
        const char *setting = getenv("SPARROW_AMX");
        known = setting != NULL && (strcmp(setting, "on") == 0 || strcmp(setting, "1") == 0);
        atomic_store_explicit(&cached, known, memory_order_release);
    }
    return known;
}

int ck_x16_amx_takes_batch(uint32_t type, int64_t n_batch) {
    return (type == T_Q4_K || type == T_Q6_K) && n_batch >= CK_X16_AMX_MIN_ROWS && ck_amx_products_enabled();
}

#if defined(__x86_64__) || defined(__i386__)

#define CK_AMX \
    __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c,amx-tile,amx-int8")))

/// LDTILECFG's 64-byte operand (palette 1).
typedef struct {
    uint8_t palette, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} ck_amx_config;
_Static_assert(sizeof(ck_amx_config) == 64, "tile configuration");

// Tiles: 0-3 sums (R rows × 16 int32), 4-5 activations (R rows × K bytes), 6-7 weights (K/4 rows × 64 bytes), the
// last two pairs alternating between sub-blocks so that a load need not wait for the multiply before it.
static inline CK_AMX void ck_amx_configure(int rows, int k_bytes) {
    ck_amx_config c;
    memset(&c, 0, sizeof c);
    c.palette = 1;
    for (int t = 0; t < 4; t++) c.rows[t] = (uint8_t)rows, c.colsb[t] = 64;
    for (int t = 4; t < 6; t++) c.rows[t] = (uint8_t)rows, c.colsb[t] = (uint16_t)k_bytes;
    for (int t = 6; t < 8; t++) c.rows[t] = (uint8_t)(k_bytes / 4), c.colsb[t] = 64;
    _tile_loadconfig(&c);
}

/// Sub-block `s` (K bytes at `k_bytes · s` of every activation row) times its unpacked weights into `parts[s]`:
/// parts[s][a][r] = Σ x·q over the sub-block, activation row a, weight row r.
#define CK_AMX_SUB(s, C, A, B, k_bytes)                                         \
    do {                                                                        \
        _tile_zero(C);                                                          \
        _tile_loadd(A, xq + (k_bytes) * (s), (long)x_stride);                   \
        _tile_loadd(B, wq[s], 64);                                              \
        _tile_dpbsud(C, A, B);                                                  \
        _tile_stored(C, parts[s], 64);                                          \
    } while (0)

// Q4_K: a sub-block's sum is ≤ 32·15·128 = 61440 in magnitude; times its 6-bit scale ≤ 63·61440 < 2^22, 8 of them
// < 2^25 (the VNNI kernel's isum). The mins as in the VNNI kernel.
static inline __attribute__((always_inline)) CK_AMX void ck_amx_q4_K_rows(int64_t n, const blk_q4_Kx16 *w,
                                                                         const uint8_t *x, size_t x_stride, float *y,
                                                                         size_t y_stride, const int prefetch,
                                                                         const int R) {
    _Alignas(64) double sums[16][16];
    _Alignas(64) uint8_t wq[8][8][64];       // [sub-block][tile row][row · 4 + j]
    _Alignas(64) int32_t parts[8][16][16];  // [sub-block][activation row][weight row]
    memset(sums, 0, sizeof sums);
    ck_amx_configure(R, 32);
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    for (int64_t i = 0; i < n / QK_K; i++) {
        const blk_q4_Kx16 *b = w + i;
        if (prefetch && R > 1) ck_x16_prefetch(b, sizeof *b, R >= CK_X16_FAR_ROWS);
        // Chunk c holds values 8c..8c+3 (low nibbles) and 8c+4..8c+7 (high): rows 2(c mod 4) and 2(c mod 4) + 1 of
        // sub-block c / 4's tile.
        for (int c = 0; c < 32; c++) {
            const __m512i v = _mm512_load_si512((const void *)b->qs[c]);
            _mm512_store_si512((void *)wq[c / 4][2 * (c % 4)], _mm512_and_si512(v, m4));
            _mm512_store_si512((void *)wq[c / 4][2 * (c % 4) + 1], _mm512_and_si512(_mm512_srli_epi16(v, 4), m4));
        }
        const uint8_t *xq = x + (size_t)i * sizeof(blk_q8_K) + offsetof(blk_q8_K, qs);
        CK_AMX_SUB(0, 0, 4, 6, 32);
        CK_AMX_SUB(1, 1, 5, 7, 32);
        CK_AMX_SUB(2, 2, 4, 6, 32);
        CK_AMX_SUB(3, 3, 5, 7, 32);
        CK_AMX_SUB(4, 0, 4, 6, 32);
        CK_AMX_SUB(5, 1, 5, 7, 32);
        CK_AMX_SUB(6, 2, 4, 6, 32);
        CK_AMX_SUB(7, 3, 5, 7, 32);
        const blk_q8_K *xr[16];
        ck_x16_activation_blocks(x, x_stride, i, R, xr);
        __m512i acc[16];
        for (int a = 0; a < R; a++) acc[a] = _mm512_setzero_si512();
        for (int s = 0; s < 8; s++) {
            const __m512i scale = _mm512_cvtepu8_epi32(_mm_load_si128((const __m128i *)b->scales[s]));
            for (int a = 0; a < R; a++) {
                acc[a] = _mm512_add_epi32(acc[a], _mm512_mullo_epi32(_mm512_load_si512(parts[s][a]), scale));
            }
        }
        __m512i macc[16];
        ck_x16_q4_K_mins(b, xr, R, macc);
        for (int a = 0; a < R; a++) ck_x16_terms(sums[a], b->d, b->dmin, xr[a]->d, acc[a], macc[a]);
    }
    ck_x16_store(sums, R, y, y_stride);
}

// Q6_K: a 16-value sub-block's Σ q·x (quants 0..63) is ≤ 16·63·128 < 2^17; minus 32 × the activations' sum over it
// (bsums, as the quantizer writes them) it is the reference's Σ (q − 32)·x, within 16·32·128 = 2^16; times the scale
// (|scale| ≤ 128), 16 sub-blocks: < 2^27, as in the VNNI kernel.
static inline __attribute__((always_inline)) CK_AMX void ck_amx_q6_K_rows(int64_t n, const blk_q6_Kx16 *w,
                                                                         const uint8_t *x, size_t x_stride, float *y,
                                                                         size_t y_stride, const int prefetch,
                                                                         const int R) {
    _Alignas(64) double sums[16][16];
    _Alignas(64) uint8_t wq[16][4][64];      // [sub-block][tile row][row · 4 + j]
    _Alignas(64) int32_t parts[16][16][16];  // [sub-block][activation row][weight row]
    memset(sums, 0, sizeof sums);
    ck_amx_configure(R, 16);
    for (int64_t i = 0; i < n / QK_K; i++) {
        const blk_q6_Kx16 *b = w + i;
        if (prefetch) ck_x16_prefetch(b, sizeof *b, R >= CK_X16_FAR_ROWS);
        // As the VNNI kernel unpacks them: chunk c = 2s + h holds values 8c..8c+3 and 8c+4..8c+7, tile rows 2h, 2h + 1
        // of sub-block s; their high bits at 2k in qh[s] (k = 2h, 2h + 1), moved to bits 4-5.
        for (int s = 0; s < 16; s++) {
            const __m512i qh = _mm512_load_si512((const void *)b->qh[s]);
            for (int h = 0; h < 2; h++) {
                __m512i lo, hi;
                ck_x16_q6_K_values(b, s, h, qh, &lo, &hi);
                _mm512_store_si512((void *)wq[s][2 * h], lo);
                _mm512_store_si512((void *)wq[s][2 * h + 1], hi);
            }
        }
        const uint8_t *xq = x + (size_t)i * sizeof(blk_q8_K) + offsetof(blk_q8_K, qs);
        CK_AMX_SUB(0, 0, 4, 6, 16);
        CK_AMX_SUB(1, 1, 5, 7, 16);
        CK_AMX_SUB(2, 2, 4, 6, 16);
        CK_AMX_SUB(3, 3, 5, 7, 16);
        CK_AMX_SUB(4, 0, 4, 6, 16);
        CK_AMX_SUB(5, 1, 5, 7, 16);
        CK_AMX_SUB(6, 2, 4, 6, 16);
        CK_AMX_SUB(7, 3, 5, 7, 16);
        CK_AMX_SUB(8, 0, 4, 6, 16);
        CK_AMX_SUB(9, 1, 5, 7, 16);
        CK_AMX_SUB(10, 2, 4, 6, 16);
        CK_AMX_SUB(11, 3, 5, 7, 16);
        CK_AMX_SUB(12, 0, 4, 6, 16);
        CK_AMX_SUB(13, 1, 5, 7, 16);
        CK_AMX_SUB(14, 2, 4, 6, 16);
        CK_AMX_SUB(15, 3, 5, 7, 16);
        const blk_q8_K *xr[16];
        ck_x16_activation_blocks(x, x_stride, i, R, xr);
        _Alignas(64) int32_t offsets[16][16];
        ck_x16_q6_K_offsets(xr, R, offsets);
        __m512i acc[16];
        for (int a = 0; a < R; a++) acc[a] = _mm512_setzero_si512();
        for (int s = 0; s < 16; s++) {
            const __m512i scale = ck_x16_q6_K_scale(b, s);
            for (int a = 0; a < R; a++) {
                const __m512i part = _mm512_add_epi32(_mm512_load_si512(parts[s][a]), _mm512_set1_epi32(offsets[a][s]));
                acc[a] = _mm512_add_epi32(acc[a], _mm512_mullo_epi32(part, scale));
            }
        }
        for (int a = 0; a < R; a++) ck_x16_terms(sums[a], b->d, NULL, xr[a]->d, acc[a], acc[a]);
    }
    ck_x16_store(sums, R, y, y_stride);
}

#define CK_AMX_HEIGHT(kernel, blk, R)                                                                              \
    static __attribute__((noinline)) CK_AMX void kernel##_##R(int64_t n, const void *w, const void *x,             \
                                                              size_t x_stride, float *y, size_t y_stride,          \
                                                              int prefetch) {                                      \
        kernel(n, (const blk *)w, (const uint8_t *)x, x_stride, y, y_stride, prefetch, R);                         \
    }
#define CK_AMX_HEIGHTS(kernel, blk)                                                                                \
    CK_AMX_HEIGHT(kernel, blk, 1) CK_AMX_HEIGHT(kernel, blk, 2) CK_AMX_HEIGHT(kernel, blk, 3)                      \
    CK_AMX_HEIGHT(kernel, blk, 4) CK_AMX_HEIGHT(kernel, blk, 5) CK_AMX_HEIGHT(kernel, blk, 6)                      \
    CK_AMX_HEIGHT(kernel, blk, 7) CK_AMX_HEIGHT(kernel, blk, 8) CK_AMX_HEIGHT(kernel, blk, 9)                      \
    CK_AMX_HEIGHT(kernel, blk, 10) CK_AMX_HEIGHT(kernel, blk, 11) CK_AMX_HEIGHT(kernel, blk, 12)                   \
    CK_AMX_HEIGHT(kernel, blk, 13) CK_AMX_HEIGHT(kernel, blk, 14) CK_AMX_HEIGHT(kernel, blk, 15)                   \
    CK_AMX_HEIGHT(kernel, blk, 16)

CK_AMX_HEIGHTS(ck_amx_q4_K_rows, blk_q4_Kx16)
CK_AMX_HEIGHTS(ck_amx_q6_K_rows, blk_q6_Kx16)

/// A kernel of one tile height (ck_x16_fn without `count`).
typedef void (*ck_amx_height_fn)(int64_t n, const void *w, const void *x, size_t x_stride, float *y, size_t y_stride,
                                 int prefetch);

#define CK_AMX_TABLE(kernel)                                                                                       \
    {kernel##_1,  kernel##_2,  kernel##_3,  kernel##_4,  kernel##_5,  kernel##_6,  kernel##_7,  kernel##_8,           \
     kernel##_9,  kernel##_10, kernel##_11, kernel##_12, kernel##_13, kernel##_14, kernel##_15, kernel##_16}

static const ck_amx_height_fn ck_amx_q4_K_heights[CK_X16_AMX_MAX_ROWS] = CK_AMX_TABLE(ck_amx_q4_K_rows);
static const ck_amx_height_fn ck_amx_q6_K_heights[CK_X16_AMX_MAX_ROWS] = CK_AMX_TABLE(ck_amx_q6_K_rows);

static void ck_x16_dot_q4_K_amx(int64_t n, const void *w, const void *x, size_t x_stride, int count, float *y,
                                size_t y_stride, int prefetch) {
    if (count >= 1 && count <= CK_X16_AMX_MAX_ROWS) {
        ck_amx_q4_K_heights[count - 1](n, w, x, x_stride, y, y_stride, prefetch);
    }
}

static void ck_x16_dot_q6_K_amx(int64_t n, const void *w, const void *x, size_t x_stride, int count, float *y,
                                size_t y_stride, int prefetch) {
    if (count >= 1 && count <= CK_X16_AMX_MAX_ROWS) {
        ck_amx_q6_K_heights[count - 1](n, w, x, x_stride, y, y_stride, prefetch);
    }
}

ck_x16_fn ck_x16_amx_lookup(uint32_t type, int level) {
    if (level != SPARROW_LEVEL_AVX512 || !ck_has_amx()) return NULL;
    switch (type) {
    case T_Q4_K: return ck_x16_dot_q4_K_amx;
    case T_Q6_K: return ck_x16_dot_q6_K_amx;
    default: return NULL;
    }
}

#else

ck_x16_fn ck_x16_amx_lookup(uint32_t type, int level) {
    (void)type;
    (void)level;
    return NULL;
}

#endif
