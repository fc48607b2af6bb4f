// silu(a)·b, the gate of every SwiGLU block (dense MLPs, MoE experts, qwen3next's gated norm), with Sparrow's own
// e^x: the algorithm and constants of glibc's expf (from ARM's optimized-routines, in glibc since 2.28), with the
// fused multiply-adds where glibc's FMA build has them (__expf_fma, what glibc 2.36 runs on an x86-64 CPU with FMA and
// AVX2; read from its disassembly). So every level equals that expf bit for bit (the tests check a sweep of all floats
// against libm's expf; every float was checked once, 2026-12-01: Scripts/checks/silu-exhaustive), and the AVX-512
// level computes 16 at once. glibc's other build (CPUs without FMA or AVX2) rounds 2 of the 2^32 floats differently;
// these kernels give the same bits on every machine.
// (libm's expf one value at a time was ~1.5 % of each thread's time in an 8-sequence qwen3moe decode step; with this
// the step took 1.2-1.4 % less time, single-sequence steps 0.1-1.1 % less: qwen3moe-8l repacked, 2 threads, the two
// variants taking turns step by step in one process, 3 runs of 4 × 128 steps, 2026-12-01.)
//
// e^x = 2^(k/32) · 2^(r/32): z = x·32/ln 2 in double, k = round(z) (by adding 1.5·2^52), r = z − k; 2^(k/32) is a
// table entry for k mod 32 with k/32 added to its exponent bits; 2^(r/32) ≈ C0 r³ + C1 r² + C2 r + 1. |x| ≥ 88 takes
// glibc's special cases (overflow to +∞, underflow to 0 or the smallest subnormal, NaN, ±∞).
#include <math.h>
#include <string.h>

#include "CKernels.h"
#include "ck_avx512.h"

/// 2^(i/32) with i·2^52/32 subtracted from its bits (glibc's __exp2f_data.tab), so adding k << 47 gives 2^(k/32).
static const uint64_t ck_exp2f_table[32] = {
    0x3ff0000000000000, 0x3fefd9b0d3158574, 0x3fefb5586cf9890f, 0x3fef9301d0125b51, 0x3fef72b83c7d517b,
    0x3fef54873168b9aa, 0x3fef387a6e756238, 0x3fef1e9df51fdee1, 0x3fef06fe0a31b715, 0x3feef1a7373aa9cb,
    0x3feedea64c123422, 0x3feece086061892d, 0x3feebfdad5362a27, 0x3feeb42b569d4f82, 0x3feeab07dd485429,
    0x3feea47eb03a5585, 0x3feea09e667f3bcd, 0x3fee9f75e8ec5f74, 0x3feea11473eb0187, 0x3feea589994cce13,
    0x3feeace5422aa0db, 0x3feeb737b0cdc5e5, 0x3feec49182a3f090, 0x3feed503b23e255d, 0x3feee89f995ad3ad,
    0x3feeff76f2fb5e47, 0x3fef199bdd85529c, 0x3fef3720dcef9069, 0x3fef5818dcfba487, 0x3fef7c97337b9b5f,
    0x3fefa4afa2a490da, 0x3fefd0765b6e4540,
};
#define CK_EXPF_INV_LN2_N 0x1.71547652b82fep+5  // 32 / ln 2
#define CK_EXPF_SHIFT 0x1.8p+52
#define CK_EXPF_C0 0x1.c6af84b912394p-20
#define CK_EXPF_C1 0x1.ebfce50fac4f3p-13
#define CK_EXPF_C2 0x1.62e42ff0c52d6p-6
/// Bits 20-30 of a float (its exponent and 3 mantissa bits) from which glibc takes its special cases: |x| ≥ 88.
#define CK_EXPF_SPECIAL_TOP 0x42b

/// For |x| ≥ 88: glibc's result in *e and 1, or 0 where glibc sends x down the main path.
static int ck_expf_special(float x, uint32_t bits, float *e) {
    if (bits == 0xff800000u) { *e = 0.0f; return 1; }  // −∞
    if (((bits >> 20) & 0x7ff) >= 0x7f8) { *e = x + x; return 1; }  // NaN, +∞
    if (x > 0x1.62e42ep6f) { *e = 0x1p97f * 0x1p97f; return 1; }  // overflow: +∞
    if (x < -0x1.9fe368p6f) { *e = 0x1p-95f * 0x1p-95f; return 1; }  // underflow: 0
    // May underflow: the smallest subnormal. (glibc's branch, mirrored; the main path gives the same values there,
    // and glibc sets errno on it, which Sparrow does not.)
    if (x < -0x1.9d1d9ep6f) { *e = 0x1.4p-75f * 0x1.4p-75f; return 1; }
    return 0;
}

/// e^x, one value; `fma` is __builtin_fma (an instruction in the FMA-level callers, a libm call in the portable one).
static inline __attribute__((always_inline)) float ck_expf(float x) {
    uint32_t bits;
    memcpy(&bits, &x, 4);
    float special;
    if (((bits >> 20) & 0x7ff) >= CK_EXPF_SPECIAL_TOP && ck_expf_special(x, bits, &special)) return special;
    const double xd = (double)x;
    const double kd0 = __builtin_fma(CK_EXPF_INV_LN2_N, xd, CK_EXPF_SHIFT);
    uint64_t ki;
    memcpy(&ki, &kd0, 8);
    const double kd = kd0 - CK_EXPF_SHIFT;
    const double r = __builtin_fma(CK_EXPF_INV_LN2_N, xd, -kd);
    const uint64_t t = ck_exp2f_table[ki % 32] + (ki << 47);
    double s;
    memcpy(&s, &t, 8);
    const double z = __builtin_fma(CK_EXPF_C0, r, CK_EXPF_C1);
    const double r2 = r * r;
    double y = __builtin_fma(CK_EXPF_C2, r, 1.0);
    y = __builtin_fma(z, r2, y);
    return (float)(y * s);
}

/// silu(a)·b as the Swift reference writes it: a / (1 + e^−a), then times b, each rounded to float. When both factors
/// of the product are NaN, the silu's (as x86 gives for the reference's operand order and the AVX-512 level's
/// vmulps): a compiler may put either factor first in a scalar multiply.
static inline __attribute__((always_inline)) float ck_silu_mul1(float a, float b) {
    const float gate = a / (1.0f + ck_expf(-a));
    return gate != gate ? gate : gate * b;
}

static void ck_silu_mul_portable(const float *a, const float *b, float *out, int64_t n) {
    for (int64_t i = 0; i < n; i++) out[i] = ck_silu_mul1(a[i], b[i]);
}

static void ck_expf_portable(const float *x, float *out, int64_t n) {
    for (int64_t i = 0; i < n; i++) out[i] = ck_expf(x[i]);
}

#if defined(__x86_64__) || defined(__i386__)
static __attribute__((target("fma"))) void ck_silu_mul_fma(const float *a, const float *b, float *out, int64_t n) {
    for (int64_t i = 0; i < n; i++) out[i] = ck_silu_mul1(a[i], b[i]);
}

static __attribute__((target("fma"))) void ck_expf_fma(const float *x, float *out, int64_t n) {
    for (int64_t i = 0; i < n; i++) out[i] = ck_expf(x[i]);
}

/// ck_expf's main path on 8 lanes (|x| < 88, or the part of |x| ≥ 88 glibc also sends there): the same operations.
static inline __attribute__((always_inline)) CK_AVX512 __m256 ck_expf8(__m256 x, const __m512i table[4]) {
    const __m512d xd = _mm512_cvtps_pd(x);
    const __m512d kd0 = _mm512_fmadd_pd(_mm512_set1_pd(CK_EXPF_INV_LN2_N), xd, _mm512_set1_pd(CK_EXPF_SHIFT));
    const __m512i ki = _mm512_castpd_si512(kd0);
    const __m512d kd = _mm512_sub_pd(kd0, _mm512_set1_pd(CK_EXPF_SHIFT));
    const __m512d r = _mm512_fmsub_pd(_mm512_set1_pd(CK_EXPF_INV_LN2_N), xd, kd);
    // table[ki mod 32]: entries 0-15 from the first pair of registers, 16-31 from the second (bit 4 of the index).
    const __m512i low = _mm512_permutex2var_epi64(table[0], ki, table[1]);
    const __m512i high = _mm512_permutex2var_epi64(table[2], ki, table[3]);
    const __mmask8 upper = _mm512_test_epi64_mask(ki, _mm512_set1_epi64(16));
    const __m512i t = _mm512_add_epi64(_mm512_mask_blend_epi64(upper, low, high), _mm512_slli_epi64(ki, 47));
    const __m512d z = _mm512_fmadd_pd(_mm512_set1_pd(CK_EXPF_C0), r, _mm512_set1_pd(CK_EXPF_C1));
    const __m512d r2 = _mm512_mul_pd(r, r);
    __m512d y = _mm512_fmadd_pd(_mm512_set1_pd(CK_EXPF_C2), r, _mm512_set1_pd(1.0));
    y = _mm512_fmadd_pd(z, r2, y);
    return _mm512_cvtpd_ps(_mm512_mul_pd(y, _mm512_castsi512_pd(t)));
}

/// e^x for 16 lanes; lanes with |x| ≥ 88 go through the scalar ck_expf (glibc's special cases).
static inline __attribute__((always_inline)) CK_AVX512 __m512 ck_expf16(__m512 x, const __m512i table[4]) {
    const __m512 e = _mm512_insertf32x8(_mm512_castps256_ps512(ck_expf8(_mm512_castps512_ps256(x), table)),
                                        ck_expf8(_mm512_extractf32x8_ps(x, 1), table), 1);
    const __m512i top = _mm512_and_si512(_mm512_srli_epi32(_mm512_castps_si512(x), 20), _mm512_set1_epi32(0x7ff));
    __mmask16 special = _mm512_cmpge_epi32_mask(top, _mm512_set1_epi32(CK_EXPF_SPECIAL_TOP));
    if (special == 0) return e;
    _Alignas(64) float lanes[16], values[16];
    _mm512_store_ps(lanes, x);
    _mm512_store_ps(values, e);
    for (int i = 0; i < 16; i++) {
        if (special & (1u << i)) values[i] = ck_expf(lanes[i]);
    }
    return _mm512_load_ps(values);
}

static inline CK_AVX512 void ck_exp2f_table_load(__m512i table[4]) {
    for (int q = 0; q < 4; q++) table[q] = _mm512_loadu_si512((const void *)(ck_exp2f_table + 8 * q));
}

static CK_AVX512 void ck_silu_mul_avx512(const float *a, const float *b, float *out, int64_t n) {
    __m512i table[4];
    ck_exp2f_table_load(table);
    const __m512 one = _mm512_set1_ps(1.0f), sign = _mm512_set1_ps(-0.0f);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m512 x = _mm512_loadu_ps(a + i);
        const __m512 e = ck_expf16(_mm512_xor_ps(x, sign), table);
        _mm512_storeu_ps(out + i, _mm512_mul_ps(_mm512_div_ps(x, _mm512_add_ps(one, e)), _mm512_loadu_ps(b + i)));
    }
    for (; i < n; i++) out[i] = ck_silu_mul1(a[i], b[i]);
}

static CK_AVX512 void ck_expf_avx512(const float *x, float *out, int64_t n) {
    __m512i table[4];
    ck_exp2f_table_load(table);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(out + i, ck_expf16(_mm512_loadu_ps(x + i), table));
    for (; i < n; i++) out[i] = ck_expf(x[i]);
}
#endif

int sparrow_silu_best_level(void) {
    static int cached = -1;
    if (cached < 0) {
        const sparrow_cpu_features f = sparrow_detect_cpu_features();
        cached = f.avx512 && f.fma ? SPARROW_SILU_AVX512 : f.fma ? SPARROW_SILU_FMA : SPARROW_SILU_PORTABLE;
    }
    return cached;
}

static int ck_silu_level_ok(int level) {
    return level >= SPARROW_SILU_PORTABLE && level <= sparrow_silu_best_level();
}

int sparrow_silu_mul(int level, const float *a, const float *b, float *out, int64_t n) {
    if (!ck_silu_level_ok(level) || n < 0) return -1;
#if defined(__x86_64__) || defined(__i386__)
    if (level == SPARROW_SILU_AVX512) { ck_silu_mul_avx512(a, b, out, n); return 0; }
    if (level == SPARROW_SILU_FMA) { ck_silu_mul_fma(a, b, out, n); return 0; }
#endif
    ck_silu_mul_portable(a, b, out, n);
    return 0;
}

int sparrow_silu_exp(int level, const float *x, float *out, int64_t n) {
    if (!ck_silu_level_ok(level) || n < 0) return -1;
#if defined(__x86_64__) || defined(__i386__)
    if (level == SPARROW_SILU_AVX512) { ck_expf_avx512(x, out, n); return 0; }
    if (level == SPARROW_SILU_FMA) { ck_expf_fma(x, out, n); return 0; }
#endif
    ck_expf_portable(x, out, n);
    return 0;
}
