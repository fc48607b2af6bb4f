// Shared AVX2 helpers for the run-time selected kernels (dot_avx2*.c). Everything here carries the target
// attribute, so only code that ck_dot_lookup selects on an AVX2/FMA/F16C CPU executes it.
#ifndef SPARROW_CK_AVX2_H
#define SPARROW_CK_AVX2_H

#include "ck_dot.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define CK_AVX2 __attribute__((target("avx2,fma,f16c")))

// F16C conversion of one half, moved in with an explicit vmovd (which writes the whole register). Written with
// intrinsics, clang inserts the half into whatever register it likes (the upper lanes being unused), once the row
// sum itself, which chained every block's conversion to the previous block's add: 25 cycles a block, not about 6.
static inline CK_AVX2 float ck_h2f(const void *p) {
    const uint32_t h = ck_u16(p);
    __m128i v;
    __asm__("vmovd %1, %0" : "=x"(v) : "r"(h));
    return _mm_cvtss_f32(_mm_cvtph_ps(v));
}

/// Two adjacent halves (a block's d and m) converted with one F16C instruction, as doubles [first, second].
static inline CK_AVX2 __m128d ck_h2f_pair(const void *p) {
    const uint32_t h = ck_u32(p);
    __m128i v;
    __asm__("vmovd %1, %0" : "=x"(v) : "r"(h));
    return _mm_cvtps_pd(_mm_cvtph_ps(v));
}

static inline CK_AVX2 int32_t ck_hsum_i32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
    return _mm_cvtsi128_si32(s);
}

/// Prefetches the cache lines of the weight block `distance` bytes ahead. Rows are streamed once per mat-vec;
/// measured on this code, prefetching about a row (4 KiB) ahead lifts a memory-bound Q4_K mat-vec from ~3 to ~8 GB/s.
#define CK_PREFETCH_DISTANCE 4096
static inline CK_AVX2 void ck_prefetch(const void *block, int bytes) {
    for (int k = 0; k < bytes; k += 64) _mm_prefetch((const char *)block + CK_PREFETCH_DISTANCE + k, _MM_HINT_T0);
}

static inline CK_AVX2 __m256i ck_load(const void *p) { return _mm256_loadu_si256((const __m256i *)p); }

/// Unsigned 4-bit quants of one 16-byte group: low nibbles (values 0..15) then high nibbles (values 16..31).
static inline CK_AVX2 __m256i ck_nibbles16(const uint8_t *q) {
    const __m128i b = _mm_loadu_si128((const __m128i *)q);
    const __m128i m4 = _mm_set1_epi8(0x0F);
    return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(b, 4), m4), _mm_and_si128(b, m4));
}

/// The four horizontal sums of four vectors of eight int32, in order (3 hadds instead of 4 shuffle ladders).
static inline CK_AVX2 __m128i ck_hsum4_i32(__m256i a, __m256i b, __m256i c, __m256i d) {
    const __m256i abcd = _mm256_hadd_epi32(_mm256_hadd_epi32(a, b), _mm256_hadd_epi32(c, d));
    return _mm_add_epi32(_mm256_castsi256_si128(abcd), _mm256_extracti128_si256(abcd, 1));
}

/// Adds four Q8_0-family blocks to the row sum: d_w·d_x·sumi computed in double lanes (the roundings of ck_term in
/// each lane), then added in block order. `w` points at the first block's f16 scale, blocks `stride` bytes apart.
static inline CK_AVX2 double ck_fold4(double sum, const uint8_t *w, size_t stride, const blk_q8_0 *x,
                                      const int32_t sumi[4]) {
    const __m128i halves = _mm_setr_epi16((short)ck_u16(w), (short)ck_u16(w + stride), (short)ck_u16(w + 2 * stride),
                                          (short)ck_u16(w + 3 * stride), (short)ck_u16(&x[0].d),
                                          (short)ck_u16(&x[1].d), (short)ck_u16(&x[2].d), (short)ck_u16(&x[3].d));
    const __m256 scales = _mm256_cvtph_ps(halves);
    const __m256d dw = _mm256_cvtps_pd(_mm256_castps256_ps128(scales));
    const __m256d dx = _mm256_cvtps_pd(_mm256_extractf128_ps(scales, 1));
    const __m256d t = _mm256_mul_pd(_mm256_mul_pd(dw, dx), _mm256_cvtepi32_pd(_mm_loadu_si128((const __m128i *)sumi)));
    const __m128d lo = _mm256_castpd256_pd128(t), hi = _mm256_extractf128_pd(t, 1);
    sum += _mm_cvtsd_f64(lo);
    sum += _mm_cvtsd_f64(_mm_unpackhi_pd(lo, lo));
    sum += _mm_cvtsd_f64(hi);
    sum += _mm_cvtsd_f64(_mm_unpackhi_pd(hi, hi));
    return sum;
}

/// Σ a·b of 32 signed bytes as 8 int32 lanes (sign trick: |a| unsigned times b with a's sign). Needs b ≠ -128
/// where a ≠ 0 and |a|·|b| pairs below 2^15, which holds for every weight grid here against int8 activations
/// in [-127, 127].
static inline CK_AVX2 __m256i ck_dot_i8_lanes(__m256i a, __m256i b) {
    const __m256i p = _mm256_maddubs_epi16(_mm256_sign_epi8(a, a), _mm256_sign_epi8(b, a));
    return _mm256_madd_epi16(p, _mm256_set1_epi16(1));
}

/// A Q6_K block unpacked once: unsigned 6-bit quants q[h][g] (half h, group g of 32 values), each half's 8 scales
/// as int16 in both lanes, and all 16 scales as int16 (for the offset through the activation's 16-value sums).
typedef struct {
    __m256i q[2][4];
    __m256i half_scales[2];
    __m256i scales16;
} ck_q6_K_unpacked;

static inline CK_AVX2 void ck_q6_K_unpack(const blk_q6_K *w, ck_q6_K_unpacked *u) {
    const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(0x03);
    for (int h = 0; h < 2; h++) {
        const uint8_t *ql = w->ql + 64 * h, *qh = w->qh + 32 * h;
        u->half_scales[h] = _mm256_broadcastsi128_si256(
            _mm_cvtepi8_epi16(_mm_loadl_epi64((const __m128i *)(w->scales + 8 * h))));
        const __m256i a = ck_load(ql), b = ck_load(ql + 32), hb = ck_load(qh);
        u->q[h][0] = _mm256_or_si256(_mm256_and_si256(a, m4), _mm256_slli_epi16(_mm256_and_si256(hb, m2), 4));
        u->q[h][1] = _mm256_or_si256(_mm256_and_si256(b, m4),
                                     _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 2), m2), 4));
        u->q[h][2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(a, 4), m4),
                                     _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 4), m2), 4));
        u->q[h][3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(b, 4), m4),
                                     _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 6), m2), 4));
    }
    u->scales16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)w->scales));
}

#endif
#endif
