// Scalar reference dequantizers, one per ggml type. Each follows the operation order of gguf-py's
// `gguf.quants.<TYPE>.dequantize_blocks` (all float32, no fused multiply-add: this target has -ffp-contract=off),
// which is also ggml's `dequantize_row_*` order, so the results equal gguf-py's bit for bit.
#include "CKernels.h"
#include "ck_internal.h"

static void dq_f32(const uint8_t *src, float *y, int64_t n) { memcpy(y, src, (size_t)n * 4); }

static void dq_f16(const uint8_t *src, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = ck_fp16_to_fp32(ck_u16(src + 2 * i));
}

static void dq_bf16(const uint8_t *src, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        uint32_t bits = (uint32_t)ck_u16(src + 2 * i) << 16;
        memcpy(&y[i], &bits, 4);
    }
}

static void dq_q8_0(const blk_q8_0 *b, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, y += 32) {
        const float d = ck_fp16_to_fp32(ck_u16(&b[i].d));
        for (int j = 0; j < 32; j++) y[j] = (float)b[i].qs[j] * d;
    }
}

static void dq_q4_0(const blk_q4_0 *b, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, y += 32) {
        const float d = ck_fp16_to_fp32(ck_u16(&b[i].d));
        for (int j = 0; j < 16; j++) {
            y[j] = d * (float)((b[i].qs[j] & 0xF) - 8);
            y[j + 16] = d * (float)((b[i].qs[j] >> 4) - 8);
        }
    }
}

static void dq_q4_1(const blk_q4_1 *b, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, y += 32) {
        const float d = ck_fp16_to_fp32(ck_u16(&b[i].d));
        const float m = ck_fp16_to_fp32(ck_u16(&b[i].m));
        for (int j = 0; j < 16; j++) {
            y[j] = d * (float)(b[i].qs[j] & 0xF) + m;
            y[j + 16] = d * (float)(b[i].qs[j] >> 4) + m;
        }
    }
}

static void dq_q5_0(const blk_q5_0 *b, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, y += 32) {
        const float d = ck_fp16_to_fp32(ck_u16(&b[i].d));
        const uint32_t qh = ck_u32(b[i].qh);
        for (int j = 0; j < 16; j++) {
            const int h0 = (qh >> j) & 1, h1 = (qh >> (j + 16)) & 1;
            y[j] = d * (float)(((b[i].qs[j] & 0xF) | (h0 << 4)) - 16);
            y[j + 16] = d * (float)(((b[i].qs[j] >> 4) | (h1 << 4)) - 16);
        }
    }
}

static void dq_q5_1(const blk_q5_1 *b, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, y += 32) {
        const float d = ck_fp16_to_fp32(ck_u16(&b[i].d));
        const float m = ck_fp16_to_fp32(ck_u16(&b[i].m));
        const uint32_t qh = ck_u32(b[i].qh);
        for (int j = 0; j < 16; j++) {
            const int h0 = (qh >> j) & 1, h1 = (qh >> (j + 16)) & 1;
            y[j] = d * (float)((b[i].qs[j] & 0xF) | (h0 << 4)) + m;
            y[j + 16] = d * (float)((b[i].qs[j] >> 4) | (h1 << 4)) + m;
        }
    }
}

static void dq_iq4_nl(const blk_q4_0 *b, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, y += 32) {
        const float d = ck_fp16_to_fp32(ck_u16(&b[i].d));
        for (int j = 0; j < 16; j++) {
            y[j] = d * (float)ck_kvalues_iq4nl[b[i].qs[j] & 0xF];
            y[j + 16] = d * (float)ck_kvalues_iq4nl[b[i].qs[j] >> 4];
        }
    }
}

static void dq_q2_K(const blk_q2_K *b, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++) {
        const float d = ck_fp16_to_fp32(ck_u16(&b[i].d));
        const float dmin = ck_fp16_to_fp32(ck_u16(&b[i].dmin));
        for (int v = 0; v < QK_K; v++) {  // v = 128*half + 32*shift + l
            const int half = v / 128, shift = (v / 32) % 4, l = v % 32;
            const uint8_t sc = b[i].scales[v / 16];
            const float dl = d * (float)(sc & 0xF);
            const float ml = dmin * (float)(sc >> 4);
            const int q = (b[i].qs[32 * half + l] >> (2 * shift)) & 3;
            y[v] = dl * (float)q - ml;
        }
        y += QK_K;
    }
}

static void dq_q3_K(const blk_q3_K *b, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++) {
        const float d = ck_fp16_to_fp32(ck_u16(&b[i].d));
        int8_t sc[16];
        ck_q3k_scales(b[i].scales, sc);
        for (int v = 0; v < QK_K; v++) {  // v = 128*half + 32*shift + l; the hmask bit is v / 32
            const int half = v / 128, shift = (v / 32) % 4, l = v % 32;
            const float dl = d * (float)sc[v / 16];
            const int low = (b[i].qs[32 * half + l] >> (2 * shift)) & 3;
            const int high = (b[i].hmask[l] >> (v / 32)) & 1;
            y[v] = dl * (float)(low - (high ? 0 : 4));
        }
        y += QK_K;
    }
}

static void dq_q4_K(const blk_q4_K *b, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++) {
        const float d = ck_fp16_to_fp32(ck_u16(&b[i].d));
        const float dmin = ck_fp16_to_fp32(ck_u16(&b[i].dmin));
        for (int j = 0; j < 8; j++) {
            uint8_t sc, m;
            ck_scale_min_k4(j, b[i].scales, &sc, &m);
            const float d1 = d * (float)sc, m1 = dmin * (float)m;
            for (int l = 0; l < 32; l++) y[32 * j + l] = d1 * (float)ck_q4_K_quant(&b[i], 32 * j + l) - m1;
        }
        y += QK_K;
    }
}

static void dq_q5_K(const blk_q5_K *b, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++) {
        const float d = ck_fp16_to_fp32(ck_u16(&b[i].d));
        const float dmin = ck_fp16_to_fp32(ck_u16(&b[i].dmin));
        for (int j = 0; j < 8; j++) {
            uint8_t sc, m;
            ck_scale_min_k4(j, b[i].scales, &sc, &m);
            const float d1 = d * (float)sc, m1 = dmin * (float)m;
            const uint8_t *q = b[i].qs + 32 * (j / 2);
            for (int l = 0; l < 32; l++) {
                const int v = ((q[l] >> (4 * (j % 2))) & 0xF) | (((b[i].qh[l] >> j) & 1) << 4);
                y[32 * j + l] = d1 * (float)v - m1;
            }
        }
        y += QK_K;
    }
}

static void dq_q6_K(const blk_q6_K *b, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++) {
        const float d = ck_fp16_to_fp32(ck_u16(&b[i].d));
        for (int v = 0; v < QK_K; v++) {
            const float dl = d * (float)b[i].scales[v / 16];
            y[v] = dl * (float)(ck_q6_K_quant(&b[i], v) - 32);
        }
        y += QK_K;
    }
}

static void dq_iq4_xs(const blk_iq4_xs *b, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++) {
        const float d = ck_fp16_to_fp32(ck_u16(&b[i].d));
        for (int ib = 0; ib < 8; ib++) {
            const float dl = d * (float)ck_iq4xs_scale(&b[i], ib);
            const uint8_t *q = b[i].qs + 16 * ib;
            for (int j = 0; j < 16; j++) {
                y[32 * ib + j] = dl * (float)ck_kvalues_iq4nl[q[j] & 0xF];
                y[32 * ib + 16 + j] = dl * (float)ck_kvalues_iq4nl[q[j] >> 4];
            }
        }
        y += QK_K;
    }
}

int sparrow_dequantize(uint32_t type, const void *src, float *dst, int64_t n) {
    const uint8_t *s = (const uint8_t *)src;
    if (n < 0) return -1;
    switch (type) {
    case T_F32: dq_f32(s, dst, n); return 0;
    case T_F16: dq_f16(s, dst, n); return 0;
    case T_BF16: dq_bf16(s, dst, n); return 0;
    default: break;
    }
    const int bs = (type == T_Q2_K || type == T_Q3_K || type == T_Q4_K || type == T_Q5_K || type == T_Q6_K ||
                    type == T_IQ4_XS) ? QK_K : QK32;
    if (n % bs != 0) return -1;
    const int64_t nb = n / bs;
    switch (type) {
    case T_Q8_0: dq_q8_0((const blk_q8_0 *)s, dst, nb); return 0;
    case T_Q4_0: dq_q4_0((const blk_q4_0 *)s, dst, nb); return 0;
    case T_Q4_1: dq_q4_1((const blk_q4_1 *)s, dst, nb); return 0;
    case T_Q5_0: dq_q5_0((const blk_q5_0 *)s, dst, nb); return 0;
    case T_Q5_1: dq_q5_1((const blk_q5_1 *)s, dst, nb); return 0;
    case T_IQ4_NL: dq_iq4_nl((const blk_q4_0 *)s, dst, nb); return 0;
    case T_Q2_K: dq_q2_K((const blk_q2_K *)s, dst, nb); return 0;
    case T_Q3_K: dq_q3_K((const blk_q3_K *)s, dst, nb); return 0;
    case T_Q4_K: dq_q4_K((const blk_q4_K *)s, dst, nb); return 0;
    case T_Q5_K: dq_q5_K((const blk_q5_K *)s, dst, nb); return 0;
    case T_Q6_K: dq_q6_K((const blk_q6_K *)s, dst, nb); return 0;
    case T_IQ4_XS: dq_iq4_xs((const blk_iq4_xs *)s, dst, nb); return 0;
    default: return -1;
    }
}
