// AVX2 row kernels for the types that dominate decode time (Q4_K, Q5_K, Q6_K, Q8_0, Q4_1). They are compiled with
// target attributes, not target-wide flags, so the binary still runs on a CPU without AVX2; ck_dot_lookup picks
// them only when the CPU has AVX2, FMA and F16C. Each block's integer sum is the same exact integer the scalar
// reference computes (maddubs/madd never saturate with these ranges, noted per kernel), and it is folded into the
// row sum by the same ck_term call in the same order, so the results equal the reference bit for bit.
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

// Q8_0 · Q8_0. |w| ≤ 128 as unsigned, y ≠ -128 (activations are in [-127, 127]): pairs ≤ 2·128·127 < 2^15.
CK_AVX2 float ck_dot_q8_0_avx2(int64_t n, const void *vw, const void *vx) {
    const blk_q8_0 *w = vw, *x = vx;
    const __m256i ones = _mm256_set1_epi16(1);
    double sum = 0.0;
    for (int64_t i = 0; i < n / 32; i++) {
        ck_prefetch(&w[i], (int)sizeof(blk_q8_0));
        const __m256i qw = ck_load(w[i].qs), qx = ck_load(x[i].qs);
        const __m256i p = _mm256_maddubs_epi16(_mm256_sign_epi8(qw, qw), _mm256_sign_epi8(qx, qw));
        const int32_t sumi = ck_hsum_i32(_mm256_madd_epi16(p, ones));
        sum += ck_term(ck_h2f(&w[i].d), ck_h2f(&x[i].d), sumi);
    }
    return (float)sum;
}

// Q4_1 · Q8_1. Quants 0..15 (unsigned) × int8: pairs ≤ 2·15·127.
CK_AVX2 float ck_dot_q4_1_avx2(int64_t n, const void *vw, const void *vx) {
    const blk_q4_1 *w = vw;
    const blk_q8_1s *x = vx;
    const __m256i ones = _mm256_set1_epi16(1);
    double sum = 0.0;
    for (int64_t i = 0; i < n / 32; i++) {
        ck_prefetch(&w[i], (int)sizeof(blk_q4_1));
        const __m256i p = _mm256_maddubs_epi16(ck_nibbles16(w[i].qs), ck_load(x[i].qs));
        const int32_t sumi = ck_hsum_i32(_mm256_madd_epi16(p, ones));
        sum += ck_term_bias(ck_h2f(&w[i].d), x[i].d, sumi, ck_h2f(&w[i].m), x[i].s);
    }
    return (float)sum;
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

// Q4_K · Q8_K. Quants 0..15 × int8: pairs ≤ 3810; times a 6-bit scale in madd: < 2^18 per lane and block.
CK_AVX2 float ck_dot_q4_K_avx2(int64_t n, const void *vw, const void *vx) {
    const blk_q4_K *w = vw;
    const blk_q8_K *x = vx;
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    double sum = 0.0;
    for (int64_t i = 0; i < n / QK_K; i++) {
        ck_prefetch(&w[i], (int)sizeof(blk_q4_K));
        uint8_t s[16];
        ck_k4_scales(w[i].scales, s);
        __m256i acc = _mm256_setzero_si256();
        for (int c = 0; c < 4; c++) {
            const __m256i q = ck_load(w[i].qs + 32 * c);
            const __m256i lo = _mm256_and_si256(q, m4), hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
            const __m256i plo = _mm256_maddubs_epi16(lo, ck_load(x[i].qs + 64 * c));
            const __m256i phi = _mm256_maddubs_epi16(hi, ck_load(x[i].qs + 64 * c + 32));
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(plo, _mm256_set1_epi16(s[2 * c])));
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(phi, _mm256_set1_epi16(s[2 * c + 1])));
        }
        int64_t summ = 0;
        for (int j = 0; j < 8; j++) summ += (int64_t)s[8 + j] * (x[i].bsums[2 * j] + x[i].bsums[2 * j + 1]);
        sum += ck_term_min(ck_h2f(&w[i].d), ck_h2f(&w[i].dmin), x[i].d, ck_hsum_i32(acc), summ);
    }
    return (float)sum;
}

// Q5_K · Q8_K. Quants 0..31 × int8: pairs ≤ 7874; times a 6-bit scale: < 2^19 per lane and block.
CK_AVX2 float ck_dot_q5_K_avx2(int64_t n, const void *vw, const void *vx) {
    const blk_q5_K *w = vw;
    const blk_q8_K *x = vx;
    const __m256i m4 = _mm256_set1_epi8(0x0F), sixteen = _mm256_set1_epi8(16);
    double sum = 0.0;
    for (int64_t i = 0; i < n / QK_K; i++) {
        ck_prefetch(&w[i], (int)sizeof(blk_q5_K));
        uint8_t s[16];
        ck_k4_scales(w[i].scales, s);
        const __m256i hbits = ck_load(w[i].qh);
        __m256i acc = _mm256_setzero_si256();
        for (int c = 0; c < 4; c++) {
            const __m256i q = ck_load(w[i].qs + 32 * c);
            const __m256i b0 = _mm256_set1_epi8((char)(1 << (2 * c))), b1 = _mm256_set1_epi8((char)(1 << (2 * c + 1)));
            const __m256i h0 = _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(hbits, b0), b0), sixteen);
            const __m256i h1 = _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(hbits, b1), b1), sixteen);
            const __m256i lo = _mm256_or_si256(_mm256_and_si256(q, m4), h0);
            const __m256i hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), m4), h1);
            const __m256i plo = _mm256_maddubs_epi16(lo, ck_load(x[i].qs + 64 * c));
            const __m256i phi = _mm256_maddubs_epi16(hi, ck_load(x[i].qs + 64 * c + 32));
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(plo, _mm256_set1_epi16(s[2 * c])));
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(phi, _mm256_set1_epi16(s[2 * c + 1])));
        }
        int64_t summ = 0;
        for (int j = 0; j < 8; j++) summ += (int64_t)s[8 + j] * (x[i].bsums[2 * j] + x[i].bsums[2 * j + 1]);
        sum += ck_term_min(ck_h2f(&w[i].d), ck_h2f(&w[i].dmin), x[i].d, ck_hsum_i32(acc), summ);
    }
    return (float)sum;
}

// Q6_K · Q8_K. Unsigned quants 0..63 × int8: pairs ≤ 16002; times an int8 scale: < 2^22 per lane and group.
// The −32 offset is applied once per block through the activation's 16-value sums: Σ sc·(q−32)·y =
// Σ sc·q·y − 32·Σ sc·bsum, the same integer the reference sums directly.
CK_AVX2 float ck_dot_q6_K_avx2(int64_t n, const void *vw, const void *vx) {
    const blk_q6_K *w = vw;
    const blk_q8_K *x = vx;
    const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(0x03);
    double sum = 0.0;
    for (int64_t i = 0; i < n / QK_K; i++) {
        ck_prefetch(&w[i], (int)sizeof(blk_q6_K));
        __m256i acc = _mm256_setzero_si256();
        for (int h = 0; h < 2; h++) {
            const uint8_t *ql = w[i].ql + 64 * h, *qh = w[i].qh + 32 * h;
            const int8_t *sc = w[i].scales + 8 * h, *y = x[i].qs + 128 * h;
            const __m256i a = ck_load(ql), b = ck_load(ql + 32), hb = ck_load(qh);
            __m256i q[4];
            q[0] = _mm256_or_si256(_mm256_and_si256(a, m4), _mm256_slli_epi16(_mm256_and_si256(hb, m2), 4));
            q[1] = _mm256_or_si256(_mm256_and_si256(b, m4),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 2), m2), 4));
            q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(a, 4), m4),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 4), m2), 4));
            q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(b, 4), m4),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 6), m2), 4));
            for (int g = 0; g < 4; g++) {
                const __m256i p = _mm256_maddubs_epi16(q[g], ck_load(y + 32 * g));
                const __m256i s = _mm256_set_m128i(_mm_set1_epi16(sc[2 * g + 1]), _mm_set1_epi16(sc[2 * g]));
                acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p, s));
            }
        }
        int64_t offset = 0;
        for (int j = 0; j < 16; j++) offset += (int64_t)w[i].scales[j] * x[i].bsums[j];
        const int64_t sumi = (int64_t)ck_hsum_i32(acc) - 32 * offset;
        sum += ck_term(ck_h2f(&w[i].d), x[i].d, sumi);
    }
    return (float)sum;
}

#else
// Not an x86 CPU: the table never selects these; they exist so the target links.
float ck_dot_q8_0_avx2(int64_t n, const void *w, const void *x) { return ck_dot_q8_0_ref(n, w, x); }
float ck_dot_q4_1_avx2(int64_t n, const void *w, const void *x) { return ck_dot_q4_1_ref(n, w, x); }
float ck_dot_q4_K_avx2(int64_t n, const void *w, const void *x) { return ck_dot_q4_K_ref(n, w, x); }
float ck_dot_q5_K_avx2(int64_t n, const void *w, const void *x) { return ck_dot_q5_K_ref(n, w, x); }
float ck_dot_q6_K_avx2(int64_t n, const void *w, const void *x) { return ck_dot_q6_K_ref(n, w, x); }
#endif
