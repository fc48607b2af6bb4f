// Activation quantizers, following what llama.cpp's CPU backend runs: for Q8_0 and Q8_1 ggml-cpu's
// quantize_row_q8_0/q8_1 as built for x86 (AVX2: multiply by 127/amax, round half to even — `_ref` divides by d
// and rounds half away from zero; the rare ties shift deep models' greedy answers, see EngineTests), with an exact
// f32 block sum for Q8_1 (see CKernels.h); for Q8_K quantize_row_q8_K_ref, which the x86 build uses too.
// nearbyintf rounds half to even in the default rounding mode, which Sparrow never changes.
#include <math.h>

#include "CKernels.h"
#include "ck_internal.h"

/// ggml's nearest_int: round half to even through the float magic number 1.5·2^23 (|x| ≤ 2^22).
static inline int ck_nearest_int(float fval) {
    float val = fval + 12582912.f;
    int i;
    memcpy(&i, &val, sizeof(int));
    return (i & 0x007fffff) - 0x00400000;
}

static void quantize_q8_0(const float *x, blk_q8_0 *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, x += 32) {
        float amax = 0.0f;
        for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[j]));
        const float d = amax / 127.0f;
        const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
        const uint16_t dh = ck_fp32_to_fp16(d);
        memcpy(&y[i].d, &dh, 2);
        for (int j = 0; j < 32; j++) y[i].qs[j] = (int8_t)nearbyintf(x[j] * id);
    }
}

static void quantize_q8_1(const float *x, blk_q8_1s *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, x += 32) {
        float amax = 0.0f;
        for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[j]));
        const float d = amax / 127.0f;
        const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
        int sum = 0;
        for (int j = 0; j < 32; j++) {
            y[i].qs[j] = (int8_t)nearbyintf(x[j] * id);
            sum += y[i].qs[j];
        }
        // ggml stores d as f16; so do we (as its exact f32 value). d·sum is exact in f32: 11 + 12 bits.
        y[i].d = ck_fp16_to_fp32(ck_fp32_to_fp16(d));
        y[i].s = y[i].d * (float)sum;
    }
}

static void quantize_q8_K(const float *x, blk_q8_K *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, x += QK_K) {
        // The reference keeps the first x[j] of largest |x[j]| (NaN never compares larger). Its |x| as bits: for
        // non-NaN floats the unsigned order of the bits is the order of the values, so an integer max (which
        // vectorizes) finds the largest, with NaN (bits above infinity's) counted as 0; then the first index that
        // has it.
        uint32_t top = 0;
        for (int j = 0; j < QK_K; j++) {
            uint32_t bits;
            memcpy(&bits, &x[j], 4);
            bits &= 0x7FFFFFFFu;
            bits = bits > 0x7F800000u ? 0 : bits;
            top = bits > top ? bits : top;
        }
        if (top == 0) {
            memset(&y[i], 0, sizeof(blk_q8_K));
            continue;
        }
        float max = 0.0f;
        for (int j = 0; j < QK_K; j++) {
            uint32_t bits;
            memcpy(&bits, &x[j], 4);
            if ((bits & 0x7FFFFFFFu) == top) { max = x[j]; break; }
        }
        const float iscale = -127.f / max;
        for (int j = 0; j < QK_K; j++) {
            const int v = ck_nearest_int(iscale * x[j]);
            y[i].qs[j] = (int8_t)(v < 127 ? v : 127);
        }
        for (int j = 0; j < QK_K / 16; j++) {
            int sum = 0;
            for (int l = 0; l < 16; l++) sum += y[i].qs[16 * j + l];
            y[i].bsums[j] = (int16_t)sum;
        }
        y[i].d = 1.0f / iscale;
    }
}

#if defined(__x86_64__) || defined(__i386__)
#include "ck_avx512.h"

/// quantize_q8_K with 16 values per step: the same integer maximum of |x| as bits (NaN as 0), the first value that
/// has it, and per value the same float multiply, magic-number rounding and clamp, so the same bytes. (The portable
/// loops, built for baseline x86-64, were ~0.7 % of each thread's time in an 8-sequence qwen3moe decode step.)
static CK_AVX512 void quantize_q8_K_avx512(const float *x, blk_q8_K *y, int64_t nb) {
    const __m512i abs_mask = _mm512_set1_epi32(0x7FFFFFFF), inf = _mm512_set1_epi32(0x7F800000);
    for (int64_t i = 0; i < nb; i++, x += QK_K) {
        __m512i top = _mm512_setzero_si512();
        for (int j = 0; j < QK_K; j += 16) {
            const __m512i bits = _mm512_and_si512(_mm512_loadu_si512((const void *)(x + j)), abs_mask);
            top = _mm512_max_epu32(top, _mm512_maskz_mov_epi32(_mm512_cmple_epu32_mask(bits, inf), bits));
        }
        const uint32_t largest = (uint32_t)_mm512_reduce_max_epu32(top);
        if (largest == 0) {
            memset(&y[i], 0, sizeof(blk_q8_K));
            continue;
        }
        float max = 0.0f;
        const __m512i wanted = _mm512_set1_epi32((int)largest);
        for (int j = 0; j < QK_K; j += 16) {
            const __m512i bits = _mm512_and_si512(_mm512_loadu_si512((const void *)(x + j)), abs_mask);
            const __mmask16 hit = _mm512_cmpeq_epi32_mask(bits, wanted);
            if (hit) { max = x[j + __builtin_ctz(hit)]; break; }
        }
        const float iscale = -127.f / max;
        const __m512 scale = _mm512_set1_ps(iscale), magic = _mm512_set1_ps(12582912.f);
        const __m512i low = _mm512_set1_epi32(0x007fffff), offset = _mm512_set1_epi32(0x00400000);
        const __m512i top_q = _mm512_set1_epi32(127);
        for (int j = 0; j < QK_K; j += 16) {
            const __m512 v = _mm512_add_ps(_mm512_mul_ps(scale, _mm512_loadu_ps(x + j)), magic);
            __m512i q = _mm512_sub_epi32(_mm512_and_si512(_mm512_castps_si512(v), low), offset);
            q = _mm512_min_epi32(q, top_q);
            // q is within −127…127, except where a block's maximum is so small (below ~3.7e−37) that −127/max is
            // ±∞: then q is −0x400000, which the truncating narrow stores as 0 as the portable cast does, and which
            // adds 0 to the 16-bit sum (a multiple of 2^16). A saturating narrow would store −128.
            _mm_storeu_si128((__m128i *)(y[i].qs + j), _mm512_cvtepi32_epi8(q));
            y[i].bsums[j / 16] = (int16_t)_mm512_reduce_add_epi32(q);
        }
        y[i].d = 1.0f / iscale;
    }
}
#endif

int sparrow_quantize_q8_K_portable(const float *x, void *dst, int64_t n) {
    if (n < 0 || n % QK_K) return -1;
    quantize_q8_K(x, dst, n / QK_K);
    return 0;
}

int sparrow_activation_type(uint32_t weight_type) {
    switch (weight_type) {
    case T_F32: case T_F16: case T_BF16: return SPARROW_ACT_F32;
    case T_Q8_0: case T_Q4_0: case T_Q5_0: case T_IQ4_NL: return SPARROW_ACT_Q8_0;
    case T_Q4_1: case T_Q5_1: return SPARROW_ACT_Q8_1;
    case T_Q2_K: case T_Q3_K: case T_Q4_K: case T_Q5_K: case T_Q6_K: case T_IQ4_XS: return SPARROW_ACT_Q8_K;
    default: return -1;
    }
}

size_t sparrow_activation_row_bytes(int act_type, int64_t n) {
    if (n < 0) return 0;
    switch (act_type) {
    case SPARROW_ACT_F32: return (size_t)n * 4;
    case SPARROW_ACT_Q8_0: return n % 32 ? 0 : (size_t)(n / 32) * sizeof(blk_q8_0);
    case SPARROW_ACT_Q8_1: return n % 32 ? 0 : (size_t)(n / 32) * sizeof(blk_q8_1s);
    case SPARROW_ACT_Q8_K: return n % QK_K ? 0 : (size_t)(n / QK_K) * sizeof(blk_q8_K);
    default: return 0;
    }
}

int sparrow_quantize_activation(int act_type, const float *x, void *dst, int64_t n) {
    if (n < 0) return -1;
    switch (act_type) {
    case SPARROW_ACT_F32: memcpy(dst, x, (size_t)n * 4); return 0;
    case SPARROW_ACT_Q8_0: if (n % 32) return -1; quantize_q8_0(x, dst, n / 32); return 0;
    case SPARROW_ACT_Q8_1: if (n % 32) return -1; quantize_q8_1(x, dst, n / 32); return 0;
    case SPARROW_ACT_Q8_K:
        if (n % QK_K) return -1;
#if defined(__x86_64__) || defined(__i386__)
        if (ck_has_avx512()) { quantize_q8_K_avx512(x, dst, n / QK_K); return 0; }
#endif
        quantize_q8_K(x, dst, n / QK_K);
        return 0;
    default: return -1;
    }
}
