// Shared AVX-512 helpers for the run-time selected kernels (dot_avx512*.c). Everything here carries the target
// attribute, so only code that ck_dot_lookup selects on a CPU with AVX-512 F/BW/VL/DQ + VNNI (and the OS saving the
// zmm state) executes it; the binary still runs on older CPUs.
#ifndef SPARROW_CK_AVX512_H
#define SPARROW_CK_AVX512_H

#include "ck_dot.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define CK_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c")))

/// Prefetches the cache lines of a weight block about a row ahead (as ck_prefetch in ck_avx2.h).
static inline CK_AVX512 void ck512_prefetch(const void *block, int bytes) {
    for (int k = 0; k < bytes; k += 64) _mm_prefetch((const char *)block + 4096 + k, _MM_HINT_T0);
}

/// One f16 at `p` as a double (exact).
static inline CK_AVX512 double ck512_half(const void *p) {
    const uint32_t h = ck_u16(p);
    __m128i v;
    __asm__("vmovd %1, %0" : "=x"(v) : "r"(h));  // see ck_h2f: keeps the conversion off the row sum's chain
    return (double)_mm_cvtss_f32(_mm_cvtph_ps(v));
}

/// Sums the int32 lanes of eight vectors (one per activation row) in two groups: `first` gets, for row k in lane k,
/// the sum of 128-bit lanes 0 and 1 of v[k]; `second` the sum of lanes 2 and 3. One transpose-and-add ladder for all
/// eight rows instead of eight horizontal sums; integer adds are exact in any order.
static inline CK_AVX512 void ck512_ladder(const __m512i v[8], __m256i *first, __m256i *second) {
    __m512i p[4];
    for (int k = 0; k < 4; k++) {  // per 128-bit lane: [a0+a2, b0+b2, a1+a3, b1+b3] for rows a = 2k, b = 2k+1
        p[k] = _mm512_add_epi32(_mm512_unpacklo_epi32(v[2 * k], v[2 * k + 1]),
                                _mm512_unpackhi_epi32(v[2 * k], v[2 * k + 1]));
    }
    // Per 128-bit lane: the lane's sum for rows 0..3 (q0) and 4..7 (q1).
    const __m512i q0 = _mm512_add_epi32(_mm512_unpacklo_epi64(p[0], p[1]), _mm512_unpackhi_epi64(p[0], p[1]));
    const __m512i q1 = _mm512_add_epi32(_mm512_unpacklo_epi64(p[2], p[3]), _mm512_unpackhi_epi64(p[2], p[3]));
    // [q0 lanes 0+1, q0 lanes 2+3, q1 lanes 0+1, q1 lanes 2+3]
    const __m512i s = _mm512_add_epi32(_mm512_shuffle_i32x4(q0, q1, _MM_SHUFFLE(2, 0, 2, 0)),
                                       _mm512_shuffle_i32x4(q0, q1, _MM_SHUFFLE(3, 1, 3, 1)));
    const __m512i t = _mm512_shuffle_i32x4(s, s, _MM_SHUFFLE(3, 1, 2, 0));
    *first = _mm512_castsi512_si256(t);
    *second = _mm512_extracti64x4_epi64(t, 1);
}

/// The f32 at byte offset k·stride from `base` for rows k < count (0 elsewhere), as doubles.
static inline CK_AVX512 __m512d ck512_gather_f32(const void *base, __m256i offsets, __mmask8 rows) {
    return _mm512_cvtps_pd(_mm256_mmask_i32gather_ps(_mm256_setzero_ps(), rows, offsets, base, 1));
}

/// The f16 at byte offset k·stride from `base` for rows k < count (0 elsewhere), as doubles. Reads 4 bytes per row
/// (the half and the 2 bytes after it, which are inside the same block).
static inline CK_AVX512 __m512d ck512_gather_f16(const void *base, __m256i offsets, __mmask8 rows) {
    const __m256i words = _mm256_mmask_i32gather_epi32(_mm256_setzero_si256(), rows, offsets, base, 1);
    return _mm512_cvtps_pd(_mm256_cvtph_ps(_mm256_cvtepi32_epi16(words)));
}

/// Byte offsets k·stride for rows 0..7, or 0 when 8·stride does not fit an int32 (callers then take the per-row
/// path, see ck512_rows_fit).
static inline CK_AVX512 __m256i ck512_row_offsets(size_t stride) {
    const __m256i k = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_mullo_epi32(k, _mm256_set1_epi32((int)stride));
}

/// Whether row offsets of a multi-row kernel fit the 32-bit gather indices.
static inline int ck512_rows_fit(size_t stride) { return stride <= (size_t)INT32_MAX / CK_DOTN_MAX; }

/// Stores the first `count` lanes of eight row sums, each rounded once to float (as `(float)sum` in the reference).
static inline CK_AVX512 void ck512_store_rows(__m512d sum, int count, float *out) {
    _mm256_mask_storeu_ps(out, (__mmask8)((1u << count) - 1u), _mm512_cvtpd_ps(sum));
}

#endif
#endif
