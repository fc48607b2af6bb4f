// The one table from weight type to its row kernels: the scalar reference, AVX2, and AVX-512. The AVX-512 level has
// multi-row kernels of its own (the compute-bound batches) and runs AVX2's single-row kernels (the memory-bound
// mat-vec, where AVX-512 versions measured slower) and AVX2's multi-row kernels for the other types, so it covers every
// type on a CPU that has it.
#include "CKernels.h"
#include "ck_dot.h"

#include <stdlib.h>

int sparrow_ckernels_optimized(void) {
#if defined(__OPTIMIZE__)
    return 1;
#else
    return 0;
#endif
}

static ck_dot_fn ck_dot_scalar(uint32_t type) {
    switch (type) {
    case T_F32: return ck_dot_f32_ref;
    case T_F16: return ck_dot_f16_ref;
    case T_BF16: return ck_dot_bf16_ref;
    case T_Q8_0: return ck_dot_q8_0_ref;
    case T_Q4_0: return ck_dot_q4_0_ref;
    case T_Q4_1: return ck_dot_q4_1_ref;
    case T_Q5_0: return ck_dot_q5_0_ref;
    case T_Q5_1: return ck_dot_q5_1_ref;
    case T_IQ4_NL: return ck_dot_iq4_nl_ref;
    case T_Q2_K: return ck_dot_q2_K_ref;
    case T_Q3_K: return ck_dot_q3_K_ref;
    case T_Q4_K: return ck_dot_q4_K_ref;
    case T_Q5_K: return ck_dot_q5_K_ref;
    case T_Q6_K: return ck_dot_q6_K_ref;
    case T_IQ4_XS: return ck_dot_iq4_xs_ref;
    default: return NULL;
    }
}

static ck_dot_fn ck_dot_avx2(uint32_t type) {
    switch (type) {
    case T_Q8_0: return ck_dot_q8_0_avx2;
    case T_Q4_1: return ck_dot_q4_1_avx2;
    case T_Q4_K: return ck_dot_q4_K_avx2;
    case T_Q5_K: return ck_dot_q5_K_avx2;
    case T_Q6_K: return ck_dot_q6_K_avx2;
    case T_Q4_0: return ck_dot_q4_0_avx2;
    case T_Q5_0: return ck_dot_q5_0_avx2;
    case T_IQ4_NL: return ck_dot_iq4_nl_avx2;
    case T_Q5_1: return ck_dot_q5_1_avx2;
    case T_IQ4_XS: return ck_dot_iq4_xs_avx2;
    case T_Q2_K: return ck_dot_q2_K_avx2;
    case T_Q3_K: return ck_dot_q3_K_avx2;
    case T_F32: return ck_dot_f32_avx2;
    case T_F16: return ck_dot_f16_avx2;
    case T_BF16: return ck_dot_bf16_avx2;
    default: return NULL;
    }
}

/// The AVX-512 level's own single-row kernels; the other types use the AVX2 ones.
static ck_dot_fn ck_dot_avx512(uint32_t type) {
    switch (type) {
    case T_Q4_K: return ck_dot_q4_K_avx512;
    case T_Q6_K: return ck_dot_q6_K_avx512;
    default: return ck_dot_avx2(type);
    }
}

static ck_dotn_fn ck_dotn_avx2(uint32_t type) {
    switch (type) {
    case T_Q4_K: return ck_dotn_q4_K_avx2;
    case T_Q5_K: return ck_dotn_q5_K_avx2;
    case T_Q6_K: return ck_dotn_q6_K_avx2;
    default: return NULL;
    }
}

static ck_dotn_fn ck_dotn_avx512(uint32_t type) {
    switch (type) {
    case T_Q4_K: return ck_dotn_q4_K_avx512;
    case T_Q5_K: return ck_dotn_q5_K_avx512;
    case T_Q6_K: return ck_dotn_q6_K_avx512;
    case T_Q8_0: return ck_dotn_q8_0_avx512;
    case T_Q4_1: return ck_dotn_q4_1_avx512;
    case T_F32: return ck_dotn_f32_avx512;
    default: return NULL;
    }
}

static int ck_cpu_has_avx2(void) {
    static int cached = -1;
    if (cached < 0) {
        const sparrow_cpu_features f = sparrow_detect_cpu_features();
        cached = f.avx2 && f.fma && f.f16c;
    }
    return cached;
}

// The AVX-512 kernels also use F16C and fall back to AVX2 kernels, so the level needs both feature sets.
static int ck_cpu_has_avx512(void) {
    static int cached = -1;
    if (cached < 0) cached = ck_cpu_has_avx2() && sparrow_detect_cpu_features().avx512;
    return cached;
}

int ck_has_avx2(void) { return ck_cpu_has_avx2(); }
int ck_has_avx512(void) { return ck_cpu_has_avx512(); }
int ck_x16_row_prefetch(void) {
    static int cached = -1;
    if (cached < 0) cached = sparrow_detect_cpu_features().x16_row_prefetch;
    return cached;
}

ck_dot_fn ck_dot_lookup(uint32_t type, int level) {
    switch (level) {
    case SPARROW_LEVEL_SCALAR: return ck_dot_scalar(type);
    case SPARROW_LEVEL_AVX2: return ck_cpu_has_avx2() ? ck_dot_avx2(type) : NULL;
    case SPARROW_LEVEL_AVX512: return ck_cpu_has_avx512() ? ck_dot_avx512(type) : NULL;
    default: return NULL;
    }
}

ck_dotn_fn ck_dotn_lookup(uint32_t type, int level) {
    switch (level) {
    case SPARROW_LEVEL_AVX2: return ck_cpu_has_avx2() ? ck_dotn_avx2(type) : NULL;
    case SPARROW_LEVEL_AVX512: {
        if (!ck_cpu_has_avx512()) return NULL;
        const ck_dotn_fn own = ck_dotn_avx512(type);
        return own != NULL ? own : ck_dotn_avx2(type);
    }
    default: return NULL;
    }
}

ck_dotn_scaled_fn ck_dotn_scaled_lookup(uint32_t type, int level) {
    if (level != SPARROW_LEVEL_AVX512 || !ck_cpu_has_avx512()) return NULL;
    return type == T_Q4_1 ? ck_dotn_q4_1_avx512_scaled : NULL;
}

ck_dotn_rows_fn ck_dotn_rows_lookup(uint32_t type, int level) {
    if (level != SPARROW_LEVEL_AVX512 || !ck_cpu_has_avx512()) return NULL;
    return type == T_F32 ? ck_dotn_f32_rows_avx512 : NULL;
}

ck_batch_kernels ck_batch_kernels_lookup(uint32_t type, int level) {
    const ck_batch_kernels none = {NULL, NULL, NULL};
    if (level != SPARROW_LEVEL_AVX512 || !ck_cpu_has_avx512()) return none;
    switch (type) {
    case T_Q4_K: return (ck_batch_kernels){ck_tile_dot_q4_K_avx512, ck_tile_dot2_q4_K_avx512, ck_dot_few_q4_K_avx512};
    case T_Q6_K: return (ck_batch_kernels){ck_tile_dot_q6_K_avx512, ck_tile_dot2_q6_K_avx512, ck_dot_few_q6_K_avx512};
    default: return none;
    }
}

ck_x16_fn ck_x16_lookup(uint32_t type, int level) {
    switch (level) {
    case SPARROW_LEVEL_AVX2:
        if (!ck_cpu_has_avx2()) return NULL;
        return type == T_Q4_K ? ck_x16_dot_q4_K_avx2 : type == T_Q6_K ? ck_x16_dot_q6_K_avx2 : NULL;
    case SPARROW_LEVEL_AVX512:
        if (!ck_cpu_has_avx512()) return NULL;
        return type == T_Q4_K ? ck_x16_dot_q4_K_avx512 : type == T_Q6_K ? ck_x16_dot_q6_K_avx512 : NULL;
    default: return NULL;
    }
}

size_t sparrow_repacked_bytes(uint32_t type, int64_t n_rows, int64_t n_cols) {
    return ck_x16_bytes(type, n_rows, n_cols);
}

int sparrow_repack(sparrow_pool *pool, uint32_t type, const void *w, int64_t n_rows, int64_t n_cols, void *dst) {
    return ck_x16_repack(pool, type, w, n_rows, n_cols, dst);
}

int sparrow_has_repacked_kernel(uint32_t type, int level) { return ck_x16_lookup(type, level) != NULL; }

int sparrow_repacked_takes_batch(uint32_t type, int64_t n_batch) { return ck_x16_takes_batch(type, n_batch); }

/// One group of 16 repacked rows through `fn` (NULL: no such kernel) against `count` (1…`most`) activation rows.
static int ck_vec_dot_x16(ck_x16_fn fn, int most, int64_t n, const void *w, const void *x, size_t x_stride, int count,
                          float *out) {
    if (fn == NULL || n < QK_K || n % QK_K != 0 || count < 1 || count > most) return -1;
    fn(n, w, x, x_stride, count, out, 16, 1);
    return 0;
}

int sparrow_vec_dot_repacked(uint32_t type, int level, int64_t n, const void *w, const void *x, size_t x_stride,
                             int count, float *out) {
    return ck_vec_dot_x16(ck_x16_lookup(type, level), CK_DOTN_MAX, n, w, x, x_stride, count, out);
}

int sparrow_has_amx(void) { return ck_has_amx(); }

int sparrow_vec_dot_repacked_amx(uint32_t type, int level, int64_t n, const void *w, const void *x, size_t x_stride,
                                 int count, float *out) {
    return ck_vec_dot_x16(ck_x16_amx_lookup(type, level), CK_X16_AMX_MAX_ROWS, n, w, x, x_stride, count, out);
}

int sparrow_has_kernel(uint32_t type, int level) { return ck_dot_lookup(type, level) != NULL; }

int sparrow_has_own_kernel(uint32_t type, int level) {
    switch (level) {
    case SPARROW_LEVEL_AVX512: return ck_cpu_has_avx512() && ck_dotn_avx512(type) != NULL;
    default: return sparrow_has_kernel(type, level);
    }
}

int sparrow_vec_dot(uint32_t type, int level, int64_t n, const void *w, const void *x, float *result) {
    const ck_dot_fn fn = ck_dot_lookup(type, level);
    if (fn == NULL || n < 0) return -1;
    *result = fn(n, w, x);
    return 0;
}

int sparrow_vec_dotn(uint32_t type, int level, int64_t n, const void *w, const void *x, size_t x_stride, int count,
                     float *out) {
    const ck_dot_fn fn = ck_dot_lookup(type, level);
    if (fn == NULL || n < 0 || count < 1 || count > CK_DOTN_MAX) return -1;
    const ck_dotn_fn many = ck_dotn_lookup(type, level);
    if (many != NULL) {
        many(n, w, x, x_stride, count, out);
    } else {
        for (int k = 0; k < count; k++) out[k] = fn(n, w, (const uint8_t *)x + (size_t)k * x_stride);
    }
    return 0;
}

int sparrow_has_tile_kernel(uint32_t type, int level) { return ck_batch_kernels_lookup(type, level).tile != NULL; }

/// One weight row (`w1` NULL) or two against a tile of `count` activation rows, through the kernel a mat-mul runs.
static int ck_vec_dot_tile_rows(uint32_t type, int level, int64_t n, const void *w0, const void *w1, const void *x,
                                size_t x_stride, int count, float *out0, float *out1) {
    const ck_batch_kernels kernels = ck_batch_kernels_lookup(type, level);
    if (kernels.tile == NULL || n < QK_K || count < 1 || count > CK_DOTN_MAX) return -1;
    uint8_t *tile = aligned_alloc(64, ck_tile_bytes(n));  // whole blocks of CK_TILE_BLOCK_BYTES, a multiple of 64
    if (tile == NULL) return -2;
    ck_tile_q8_K(n, x, x_stride, count, tile);
    if (w1 == NULL) {
        kernels.tile(n, w0, tile, count, out0);
    } else {
        kernels.tile2(n, w0, w1, tile, count, out0, out1);
    }
    free(tile);
    return 0;
}

int sparrow_vec_dot_tile(uint32_t type, int level, int64_t n, const void *w, const void *x, size_t x_stride, int count,
                         float *out) {
    return ck_vec_dot_tile_rows(type, level, n, w, NULL, x, x_stride, count, out, NULL);
}

int sparrow_vec_dot_tile_pair(uint32_t type, int level, int64_t n, const void *w0, const void *w1, const void *x,
                              size_t x_stride, int count, float *out0, float *out1) {
    if (w1 == NULL || out1 == NULL) return -1;
    return ck_vec_dot_tile_rows(type, level, n, w0, w1, x, x_stride, count, out0, out1);
}

int sparrow_vec_dot_few(uint32_t type, int level, int64_t n, const void *w, const void *x, size_t x_stride, int count,
                        float *out) {
    const ck_dotn_fn fn = ck_batch_kernels_lookup(type, level).few;
    if (fn == NULL || n < 0 || count < 1 || count > CK_FEW_ROWS) return -1;
    fn(n, w, x, x_stride, count, out);
    return 0;
}

int sparrow_has_few_rows_kernel(uint32_t type, int level) { return ck_batch_kernels_lookup(type, level).few != NULL; }
