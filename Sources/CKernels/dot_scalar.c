// Scalar reference dot products: one weight row against one activation row in the format the weight type pairs
// with (sparrow_activation_type). Each block's products are summed exactly in integers, then folded into a double
// row sum with ck_term in block order; the SIMD kernels compute the same integers and fold them the same way.
#include "ck_dot.h"

static inline float ck_w_f32(const uint8_t *w, int64_t i) {
    float f;
    memcpy(&f, w + 4 * i, 4);
    return f;
}

static inline float ck_w_f16(const uint8_t *w, int64_t i) { return ck_half(w + 2 * i); }

static inline float ck_w_bf16(const uint8_t *w, int64_t i) {
    const uint32_t bits = (uint32_t)ck_u16(w + 2 * i) << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

// Float weights · f32 activations. Products of two floats are exact in double; the sums go to 16 lanes
// (element i in lane i % 16), folded by ck_fold16, then the tail in order: the order of the AVX2 kernels.
#define CK_FLOAT_REF(name, load)                                                                                 \
    float name(int64_t n, const void *vw, const void *vx) {                                                     \
        const uint8_t *w = vw;                                                                                 \
        const float *x = vx;                                                                                   \
        double acc[16] = {0};                                                                                  \
        int64_t i = 0;                                                                                         \
        for (; i + 16 <= n; i += 16) {                                                                         \
            for (int j = 0; j < 16; j++) acc[j] += (double)load(w, i + j) * (double)x[i + j];                  \
        }                                                                                                      \
        double sum = ck_fold16(acc);                                                                           \
        for (; i < n; i++) sum += (double)load(w, i) * (double)x[i];                                           \
        return (float)sum;                                                                                     \
    }

CK_FLOAT_REF(ck_dot_f32_ref, ck_w_f32)
CK_FLOAT_REF(ck_dot_f16_ref, ck_w_f16)
CK_FLOAT_REF(ck_dot_bf16_ref, ck_w_bf16)

float ck_dot_q8_0_ref(int64_t n, const void *vw, const void *vx) {
    const blk_q8_0 *w = vw, *x = vx;
    double sum = 0.0;
    for (int64_t i = 0; i < n / 32; i++) {
        int32_t sumi = 0;
        for (int j = 0; j < 32; j++) sumi += w[i].qs[j] * x[i].qs[j];
        sum += ck_term(ck_half(&w[i].d), ck_half(&x[i].d), sumi);
    }
    return (float)sum;
}

float ck_dot_q4_0_ref(int64_t n, const void *vw, const void *vx) {
    const blk_q4_0 *w = vw;
    const blk_q8_0 *x = vx;
    double sum = 0.0;
    for (int64_t i = 0; i < n / 32; i++) {
        int32_t sumi = 0;
        for (int j = 0; j < 16; j++) {
            sumi += ((w[i].qs[j] & 0xF) - 8) * x[i].qs[j];
            sumi += ((w[i].qs[j] >> 4) - 8) * x[i].qs[j + 16];
        }
        sum += ck_term(ck_half(&w[i].d), ck_half(&x[i].d), sumi);
    }
    return (float)sum;
}

float ck_dot_iq4_nl_ref(int64_t n, const void *vw, const void *vx) {
    const blk_q4_0 *w = vw;
    const blk_q8_0 *x = vx;
    double sum = 0.0;
    for (int64_t i = 0; i < n / 32; i++) {
        int32_t sumi = 0;
        for (int j = 0; j < 16; j++) {
            sumi += ck_kvalues_iq4nl[w[i].qs[j] & 0xF] * x[i].qs[j];
            sumi += ck_kvalues_iq4nl[w[i].qs[j] >> 4] * x[i].qs[j + 16];
        }
        sum += ck_term(ck_half(&w[i].d), ck_half(&x[i].d), sumi);
    }
    return (float)sum;
}

float ck_dot_q5_0_ref(int64_t n, const void *vw, const void *vx) {
    const blk_q5_0 *w = vw;
    const blk_q8_0 *x = vx;
    double sum = 0.0;
    for (int64_t i = 0; i < n / 32; i++) {
        const uint32_t qh = ck_u32(w[i].qh);
        int32_t sumi = 0;
        for (int j = 0; j < 16; j++) {
            sumi += (((w[i].qs[j] & 0xF) | (((qh >> j) & 1) << 4)) - 16) * x[i].qs[j];
            sumi += (((w[i].qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4)) - 16) * x[i].qs[j + 16];
        }
        sum += ck_term(ck_half(&w[i].d), ck_half(&x[i].d), sumi);
    }
    return (float)sum;
}

float ck_dot_q4_1_ref(int64_t n, const void *vw, const void *vx) {
    const blk_q4_1 *w = vw;
    const blk_q8_1s *x = vx;
    double sum = 0.0;
    for (int64_t i = 0; i < n / 32; i++) {
        int32_t sumi = 0;
        for (int j = 0; j < 16; j++) {
            sumi += (w[i].qs[j] & 0xF) * x[i].qs[j];
            sumi += (w[i].qs[j] >> 4) * x[i].qs[j + 16];
        }
        sum += ck_term_bias(ck_half(&w[i].d), x[i].d, sumi, ck_half(&w[i].m), x[i].s);
    }
    return (float)sum;
}

float ck_dot_q5_1_ref(int64_t n, const void *vw, const void *vx) {
    const blk_q5_1 *w = vw;
    const blk_q8_1s *x = vx;
    double sum = 0.0;
    for (int64_t i = 0; i < n / 32; i++) {
        const uint32_t qh = ck_u32(w[i].qh);
        int32_t sumi = 0;
        for (int j = 0; j < 16; j++) {
            sumi += ((w[i].qs[j] & 0xF) | (((qh >> j) & 1) << 4)) * x[i].qs[j];
            sumi += ((w[i].qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4)) * x[i].qs[j + 16];
        }
        sum += ck_term_bias(ck_half(&w[i].d), x[i].d, sumi, ck_half(&w[i].m), x[i].s);
    }
    return (float)sum;
}

float ck_dot_q2_K_ref(int64_t n, const void *vw, const void *vx) {
    const blk_q2_K *w = vw;
    const blk_q8_K *x = vx;
    double sum = 0.0;
    for (int64_t i = 0; i < n / QK_K; i++) {
        int64_t sumi = 0, summ = 0;
        for (int v = 0; v < QK_K; v++) {
            const int q = (w[i].qs[32 * (v / 128) + v % 32] >> (2 * ((v / 32) % 4))) & 3;
            sumi += (int64_t)(w[i].scales[v / 16] & 0xF) * q * x[i].qs[v];
        }
        for (int j = 0; j < 16; j++) summ += (int64_t)(w[i].scales[j] >> 4) * x[i].bsums[j];
        sum += ck_term_min(ck_half(&w[i].d), ck_half(&w[i].dmin), x[i].d, sumi, summ);
    }
    return (float)sum;
}

float ck_dot_q3_K_ref(int64_t n, const void *vw, const void *vx) {
    const blk_q3_K *w = vw;
    const blk_q8_K *x = vx;
    double sum = 0.0;
    for (int64_t i = 0; i < n / QK_K; i++) {
        int8_t sc[16];
        ck_q3k_scales(w[i].scales, sc);
        int64_t sumi = 0;
        for (int v = 0; v < QK_K; v++) {
            const int low = (w[i].qs[32 * (v / 128) + v % 32] >> (2 * ((v / 32) % 4))) & 3;
            const int high = (w[i].hmask[v % 32] >> (v / 32)) & 1;
            sumi += (int64_t)sc[v / 16] * (low - (high ? 0 : 4)) * x[i].qs[v];
        }
        sum += ck_term(ck_half(&w[i].d), x[i].d, sumi);
    }
    return (float)sum;
}

float ck_dot_q4_K_ref(int64_t n, const void *vw, const void *vx) {
    const blk_q4_K *w = vw;
    const blk_q8_K *x = vx;
    double sum = 0.0;
    for (int64_t i = 0; i < n / QK_K; i++) {
        int64_t sumi = 0, summ = 0;
        for (int j = 0; j < 8; j++) {
            uint8_t sc, m;
            ck_scale_min_k4(j, w[i].scales, &sc, &m);
            int32_t s = 0;
            for (int l = 0; l < 32; l++) s += ck_q4_K_quant(&w[i], 32 * j + l) * x[i].qs[32 * j + l];
            sumi += (int64_t)sc * s;
            summ += (int64_t)m * (x[i].bsums[2 * j] + x[i].bsums[2 * j + 1]);
        }
        sum += ck_term_min(ck_half(&w[i].d), ck_half(&w[i].dmin), x[i].d, sumi, summ);
    }
    return (float)sum;
}

float ck_dot_q5_K_ref(int64_t n, const void *vw, const void *vx) {
    const blk_q5_K *w = vw;
    const blk_q8_K *x = vx;
    double sum = 0.0;
    for (int64_t i = 0; i < n / QK_K; i++) {
        int64_t sumi = 0, summ = 0;
        for (int j = 0; j < 8; j++) {
            uint8_t sc, m;
            ck_scale_min_k4(j, w[i].scales, &sc, &m);
            const uint8_t *q = w[i].qs + 32 * (j / 2);
            int32_t s = 0;
            for (int l = 0; l < 32; l++) {
                const int v = ((q[l] >> (4 * (j % 2))) & 0xF) | (((w[i].qh[l] >> j) & 1) << 4);
                s += v * x[i].qs[32 * j + l];
            }
            sumi += (int64_t)sc * s;
            summ += (int64_t)m * (x[i].bsums[2 * j] + x[i].bsums[2 * j + 1]);
        }
        sum += ck_term_min(ck_half(&w[i].d), ck_half(&w[i].dmin), x[i].d, sumi, summ);
    }
    return (float)sum;
}

float ck_dot_q6_K_ref(int64_t n, const void *vw, const void *vx) {
    const blk_q6_K *w = vw;
    const blk_q8_K *x = vx;
    double sum = 0.0;
    for (int64_t i = 0; i < n / QK_K; i++) {
        int64_t sumi = 0;
        for (int v = 0; v < QK_K; v++) {
            sumi += (int64_t)w[i].scales[v / 16] * (ck_q6_K_quant(&w[i], v) - 32) * x[i].qs[v];
        }
        sum += ck_term(ck_half(&w[i].d), x[i].d, sumi);
    }
    return (float)sum;
}

float ck_dot_iq4_xs_ref(int64_t n, const void *vw, const void *vx) {
    const blk_iq4_xs *w = vw;
    const blk_q8_K *x = vx;
    double sum = 0.0;
    for (int64_t i = 0; i < n / QK_K; i++) {
        int64_t sumi = 0;
        for (int ib = 0; ib < 8; ib++) {
            const uint8_t *q = w[i].qs + 16 * ib;
            const int8_t *y = x[i].qs + 32 * ib;
            int32_t s = 0;
            for (int j = 0; j < 16; j++) {
                s += ck_kvalues_iq4nl[q[j] & 0xF] * y[j];
                s += ck_kvalues_iq4nl[q[j] >> 4] * y[j + 16];
            }
            sumi += (int64_t)ck_iq4xs_scale(&w[i], ib) * s;
        }
        sum += ck_term(ck_half(&w[i].d), x[i].d, sumi);
    }
    return (float)sum;
}
