// Internal helpers shared by the C kernels: block layouts (ggml-common.h), half-precision conversion and the one
// place where an integer block sum is turned into floating point, so scalar and SIMD kernels round identically.
#ifndef SPARROW_CK_INTERNAL_H
#define SPARROW_CK_INTERNAL_H

#include <stdint.h>
#include <string.h>

#define QK32 32
#define QK_K 256

typedef struct { uint16_t d; int8_t qs[32]; } blk_q8_0;                                  // 34 bytes
typedef struct { uint16_t d; uint8_t qs[16]; } blk_q4_0;                                 // 18 bytes
typedef struct { uint16_t d, m; uint8_t qs[16]; } blk_q4_1;                              // 20 bytes
typedef struct { uint16_t d; uint8_t qh[4]; uint8_t qs[16]; } blk_q5_0;                  // 22 bytes
typedef struct { uint16_t d, m; uint8_t qh[4]; uint8_t qs[16]; } blk_q5_1;               // 24 bytes
typedef struct { uint8_t scales[16]; uint8_t qs[64]; uint16_t d, dmin; } blk_q2_K;       // 84 bytes
typedef struct { uint8_t hmask[32]; uint8_t qs[64]; uint8_t scales[12]; uint16_t d; } blk_q3_K; // 110 bytes
typedef struct { uint16_t d, dmin; uint8_t scales[12]; uint8_t qs[128]; } blk_q4_K;     // 144 bytes
typedef struct { uint16_t d, dmin; uint8_t scales[12]; uint8_t qh[32]; uint8_t qs[128]; } blk_q5_K; // 176
typedef struct { uint8_t ql[128]; uint8_t qh[64]; int8_t scales[16]; uint16_t d; } blk_q6_K; // 210 bytes
typedef struct { uint16_t d; uint16_t scales_h; uint8_t scales_l[4]; uint8_t qs[128]; } blk_iq4_xs; // 136
typedef struct { float d; int8_t qs[256]; int16_t bsums[16]; } blk_q8_K;                 // 292 bytes
typedef struct { float d; float s; int8_t qs[32]; } blk_q8_1s;                           // 40 bytes (Sparrow's)

_Static_assert(sizeof(blk_q8_0) == 34, "q8_0");
_Static_assert(sizeof(blk_q4_0) == 18, "q4_0");
_Static_assert(sizeof(blk_q4_1) == 20, "q4_1");
_Static_assert(sizeof(blk_q5_0) == 22, "q5_0");
_Static_assert(sizeof(blk_q5_1) == 24, "q5_1");
_Static_assert(sizeof(blk_q2_K) == 84, "q2_K");
_Static_assert(sizeof(blk_q3_K) == 110, "q3_K");
_Static_assert(sizeof(blk_q4_K) == 144, "q4_K");
_Static_assert(sizeof(blk_q5_K) == 176, "q5_K");
_Static_assert(sizeof(blk_q6_K) == 210, "q6_K");
_Static_assert(sizeof(blk_iq4_xs) == 136, "iq4_xs");
_Static_assert(sizeof(blk_q8_K) == 292, "q8_K");
_Static_assert(sizeof(blk_q8_1s) == 40, "q8_1s");

enum {
    T_F32 = 0, T_F16 = 1, T_Q4_0 = 2, T_Q4_1 = 3, T_Q5_0 = 6, T_Q5_1 = 7, T_Q8_0 = 8, T_Q2_K = 10, T_Q3_K = 11,
    T_Q4_K = 12, T_Q5_K = 13, T_Q6_K = 14, T_IQ4_NL = 20, T_IQ4_XS = 23, T_BF16 = 30,
};

/// kvalues_iq4nl (ggml-common.h): the non-linear 4-bit grid of IQ4_NL and IQ4_XS.
static const int8_t ck_kvalues_iq4nl[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

// Blocks are packed with 2-byte alignment in files, so multi-byte fields are read with memcpy.
static inline uint16_t ck_u16(const void *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static inline uint32_t ck_u32(const void *p) { uint32_t v; memcpy(&v, p, 4); return v; }

/// IEEE binary16 to binary32, exact (subnormals included). Matches numpy's float16 → float32.
static inline float ck_fp16_to_fp32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1Fu;
    uint32_t man = h & 0x3FFu;
    uint32_t bits;
    if (exp == 0x1F) {
        bits = sign | 0x7F800000u | (man << 13);
    } else if (exp != 0) {
        bits = sign | ((exp + 112u) << 23) | (man << 13);
    } else if (man == 0) {
        bits = sign;
    } else {  // subnormal: normalise
        uint32_t e = 113u;
        while ((man & 0x400u) == 0) { man <<= 1; e--; }
        bits = sign | (e << 23) | ((man & 0x3FFu) << 13);
    }
    float f; memcpy(&f, &bits, 4); return f;
}

/// The f16 at `p` (any alignment) as f32.
static inline float ck_half(const void *p) { return ck_fp16_to_fp32(ck_u16(p)); }

/// binary32 to binary16, round to nearest even, overflow to infinity (numpy's astype(float16), ggml's
/// GGML_FP32_TO_FP16 on finite input).
static inline uint16_t ck_fp32_to_fp16(float f) {
    uint32_t x; memcpy(&x, &f, 4);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    uint32_t ax = x & 0x7FFFFFFFu;
    if (ax >= 0x7F800000u) return sign | 0x7C00u | (ax > 0x7F800000u ? 0x200u : 0);
    if (ax >= 0x477FF000u) return sign | 0x7C00u;  // rounds to >= 65520: infinity
    if (ax < 0x38800000u) {  // below the smallest normal half: subnormal or zero
        if (ax < 0x33000000u) return sign;  // < 2^-25 rounds to zero (2^-25 itself ties to even zero)
        uint32_t e = ax >> 23;
        uint32_t m = (ax & 0x7FFFFFu) | 0x800000u;
        uint32_t shift = 126u - e;  // value = m * 2^(e-150); half subnormal unit 2^-24
        uint32_t q = m >> shift;
        uint32_t rem = m & ((1u << shift) - 1u);
        uint32_t half = 1u << (shift - 1u);
        if (rem > half || (rem == half && (q & 1u))) q++;
        return sign | (uint16_t)q;
    }
    uint32_t r = ax + 0xFFFu + ((ax >> 13) & 1u);  // round mantissa to 10 bits, ties to even
    return sign | (uint16_t)(((r >> 13) - (112u << 10)) & 0x7FFFu);
}

/// Folds one block's exact integer sum into the row sum. Every kernel (scalar and SIMD) calls this same inline
/// function in block order, so their results are identical bit for bit.
static inline double ck_term(double scale_w, double scale_x, int64_t sumi) {
    return scale_w * scale_x * (double)sumi;
}

/// Folds 16 double lanes in the order AVX2 folds four 4-lane vectors: lanes j and j+8, then j and j+4, then j and
/// j+2, then the last two. Float rows (F32/F16/BF16) accumulate element i in lane i % 16.
static inline double ck_fold16(const double acc[16]) {
    double t[8], u[4];
    for (int j = 0; j < 8; j++) t[j] = acc[j] + acc[j + 8];
    for (int j = 0; j < 4; j++) u[j] = t[j] + t[j + 4];
    return (u[0] + u[2]) + (u[1] + u[3]);
}

/// A block with a bias (Q4_1, Q5_1 · Q8_1): d_w·d_x·Σq_w·q_x + m_w·s_x, added to the row sum in one step.
static inline double ck_term_bias(double scale_w, double scale_x, int64_t sumi, double min_w, double sum_x) {
    return ck_term(scale_w, scale_x, sumi) + min_w * sum_x;
}

/// A K-quant super-block with mins (Q2_K, Q4_K, Q5_K · Q8_K): d·d_x·sumi − dmin·d_x·summ, added in one step.
static inline double ck_term_min(double d, double dmin, double scale_x, int64_t sumi, int64_t summ) {
    return ck_term(d, scale_x, sumi) - ck_term(dmin, scale_x, summ);
}

/// Q4_K/Q5_K 6-bit scales and mins (get_scale_min_k4 in ggml-quants.c).
static inline void ck_scale_min_k4(int j, const uint8_t *q, uint8_t *d, uint8_t *m) {
    if (j < 4) {
        *d = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *d = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
        *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

/// Quant v (0..255, in value order) of a Q4_K block: 0..15.
static inline int ck_q4_K_quant(const blk_q4_K *b, int v) {
    const int j = v / 32;  // sub-block j: nibble j % 2 of qs[32 · (j / 2) ..]
    return (b->qs[32 * (j / 2) + v % 32] >> (4 * (j % 2))) & 0xF;
}

/// Quant v (0..255, in value order) of a Q6_K block: 0..63, before the −32 offset.
static inline int ck_q6_K_quant(const blk_q6_K *b, int v) {
    const int half = v / 128, g = (v / 32) % 4, l = v % 32;
    const int low = (b->ql[64 * half + 32 * (g % 2) + l] >> (4 * (g / 2))) & 0xF;
    const int high = (b->qh[32 * half + l] >> (2 * g)) & 3;
    return low | (high << 4);
}

/// The 8 scales (bytes 0..7) and 8 mins (bytes 8..15) of a Q4_K/Q5_K block, as get_scale_min_k4 gives them.
static inline void ck_k4_scales(const uint8_t *packed, uint8_t out[16]) {
    uint32_t u[4];
    memcpy(u, packed, 12);
    const uint32_t m6 = 0x3f3f3f3f, m4 = 0x0f0f0f0f, m2 = 0x03030303;
    u[3] = ((u[2] >> 4) & m4) | (((u[1] >> 6) & m2) << 4);
    const uint32_t mins_lo = u[1] & m6;
    u[1] = (u[2] & m4) | (((u[0] >> 6) & m2) << 4);
    u[2] = mins_lo;
    u[0] &= m6;
    memcpy(out, u, 16);
}

/// Q3_K's sixteen 6-bit scales, biased by 32 (the layout gguf-py's Q3_K.dequantize_blocks documents).
static inline void ck_q3k_scales(const uint8_t *s, int8_t out[16]) {
    for (int i = 0; i < 16; i++) {
        int lo = (s[i % 8] >> (4 * (i / 8))) & 0xF;
        int hi = (s[8 + i % 4] >> (2 * (i / 4))) & 3;
        out[i] = (int8_t)((lo | (hi << 4)) - 32);
    }
}

/// IQ4_XS 6-bit sub-block scale, biased by 32.
static inline int ck_iq4xs_scale(const blk_iq4_xs *b, int ib) {
    int lo = (b->scales_l[ib / 2] >> (4 * (ib % 2))) & 0xF;
    int hi = (ck_u16(&b->scales_h) >> (2 * ib)) & 3;
    return (lo | (hi << 4)) - 32;
}

#endif
