// Row kernels: scalar references (dot_scalar.c), AVX2 versions (dot_avx2*.c), AVX-512 versions (dot_avx512*.c), and
// the table that picks one.
#ifndef SPARROW_CK_DOT_H
#define SPARROW_CK_DOT_H

#include "CKernels.h"
#include "ck_internal.h"

/// One weight row of n values · one activation row; the result is the row sum rounded once to float.
typedef float (*ck_dot_fn)(int64_t n, const void *w, const void *x);

float ck_dot_f32_ref(int64_t n, const void *w, const void *x);
float ck_dot_f16_ref(int64_t n, const void *w, const void *x);
float ck_dot_bf16_ref(int64_t n, const void *w, const void *x);
float ck_dot_q8_0_ref(int64_t n, const void *w, const void *x);
float ck_dot_q4_0_ref(int64_t n, const void *w, const void *x);
float ck_dot_q4_1_ref(int64_t n, const void *w, const void *x);
float ck_dot_q5_0_ref(int64_t n, const void *w, const void *x);
float ck_dot_q5_1_ref(int64_t n, const void *w, const void *x);
float ck_dot_iq4_nl_ref(int64_t n, const void *w, const void *x);
float ck_dot_q2_K_ref(int64_t n, const void *w, const void *x);
float ck_dot_q3_K_ref(int64_t n, const void *w, const void *x);
float ck_dot_q4_K_ref(int64_t n, const void *w, const void *x);
float ck_dot_q5_K_ref(int64_t n, const void *w, const void *x);
float ck_dot_q6_K_ref(int64_t n, const void *w, const void *x);
float ck_dot_iq4_xs_ref(int64_t n, const void *w, const void *x);

float ck_dot_q8_0_avx2(int64_t n, const void *w, const void *x);
float ck_dot_q4_1_avx2(int64_t n, const void *w, const void *x);
float ck_dot_q4_K_avx2(int64_t n, const void *w, const void *x);
float ck_dot_q5_K_avx2(int64_t n, const void *w, const void *x);
float ck_dot_q6_K_avx2(int64_t n, const void *w, const void *x);
float ck_dot_q4_0_avx2(int64_t n, const void *w, const void *x);
float ck_dot_q5_0_avx2(int64_t n, const void *w, const void *x);
float ck_dot_iq4_nl_avx2(int64_t n, const void *w, const void *x);
float ck_dot_q5_1_avx2(int64_t n, const void *w, const void *x);
float ck_dot_iq4_xs_avx2(int64_t n, const void *w, const void *x);
float ck_dot_q2_K_avx2(int64_t n, const void *w, const void *x);
float ck_dot_q3_K_avx2(int64_t n, const void *w, const void *x);
float ck_dot_f32_avx2(int64_t n, const void *w, const void *x);
float ck_dot_f16_avx2(int64_t n, const void *w, const void *x);
float ck_dot_bf16_avx2(int64_t n, const void *w, const void *x);

float ck_dot_q4_K_avx512(int64_t n, const void *w, const void *x);
float ck_dot_q6_K_avx512(int64_t n, const void *w, const void *x);

/// One weight row · `count` (≤ CK_DOTN_MAX: a whole batch tile) activation rows `x_stride` bytes apart; out[k] must
/// equal the single-row kernel's result for row k bit for bit (the batch-invariance promise rests on it).
#define CK_DOTN_MAX 8
typedef void (*ck_dotn_fn)(int64_t n, const void *w, const void *x, size_t x_stride, int count, float *out);

void ck_dotn_q4_K_avx2(int64_t n, const void *w, const void *x, size_t x_stride, int count, float *out);
void ck_dotn_q5_K_avx2(int64_t n, const void *w, const void *x, size_t x_stride, int count, float *out);
void ck_dotn_q6_K_avx2(int64_t n, const void *w, const void *x, size_t x_stride, int count, float *out);

void ck_dotn_q4_K_avx512(int64_t n, const void *w, const void *x, size_t x_stride, int count, float *out);
void ck_dotn_q5_K_avx512(int64_t n, const void *w, const void *x, size_t x_stride, int count, float *out);
void ck_dotn_q6_K_avx512(int64_t n, const void *w, const void *x, size_t x_stride, int count, float *out);
void ck_dotn_q8_0_avx512(int64_t n, const void *w, const void *x, size_t x_stride, int count, float *out);
void ck_dotn_q4_1_avx512(int64_t n, const void *w, const void *x, size_t x_stride, int count, float *out);
void ck_dotn_f32_avx512(int64_t n, const void *w, const void *x, size_t x_stride, int count, float *out);

/// Weight rows per call of ck_dotn_f32_rows_avx512 (matmul.c's CK_ROWS_PER_TILE).
#define CK_ROWS_PER_F32_TILE 16
/// `rows` (≤ CK_ROWS_PER_F32_TILE) F32 weight rows `w_row_bytes` apart · `count` (≤ CK_DOTN_MAX) f32 activation
/// rows: y[k · y_stride + r], each with the single-row kernel's bits (ck_dotn_f32_avx512 is this for one row). The
/// activations are converted to double once per call, in chunks, not once per weight row: at 8 rows those conversions
/// took the adder ports as long as the sums did.
typedef void (*ck_dotn_rows_fn)(int64_t n, const void *w, size_t w_row_bytes, int rows, const void *x,
                                size_t x_stride, int count, float *y, size_t y_stride);
void ck_dotn_f32_rows_avx512(int64_t n, const void *w, size_t w_row_bytes, int rows, const void *x, size_t x_stride,
                             int count, float *y, size_t y_stride);
/// The multi-weight-row kernel for a type at a level, or NULL.
ck_dotn_rows_fn ck_dotn_rows_lookup(uint32_t type, int level);

/// Multi-row kernels for a few rows (1…CK_FEW_ROWS): the single-row kernel's steps with each weight block unpacked
/// once. A mat-mul uses them for 2 rows up to CK_TILE_MIN_ROWS (matmul.c), rather than a tile, whose cost does not
/// shrink with fewer rows.
#define CK_FEW_ROWS 4
void ck_dot_few_q4_K_avx512(int64_t n, const void *w, const void *x, size_t x_stride, int count, float *out);
void ck_dot_few_q6_K_avx512(int64_t n, const void *w, const void *x, size_t x_stride, int count, float *out);


/// A multi-row kernel that reads the activation rows' block scales from a table built once per batch tile instead of
/// from the rows: per 32-value block, the `count` rows' d then their s as doubles, eight each (zero past `count`).
typedef void (*ck_dotn_scaled_fn)(int64_t n, const void *w, const void *x, size_t x_stride, int count,
                                  const double *scales, float *out);

void ck_dotn_q4_1_avx512_scaled(int64_t n, const void *w, const void *x, size_t x_stride, int count,
                                const double *scales, float *out);

/// The scaled multi-row kernel for a weight type at a level, or NULL (then the plain multi-row kernel is used).
ck_dotn_scaled_fn ck_dotn_scaled_lookup(uint32_t type, int level);

/// A weight row against a tile of up to CK_DOTN_MAX Q8_K activation rows interleaved by ck_tile_q8_K (built once
/// per range of weight rows); out[k] equals the single-row kernel's result for row k bit for bit.
typedef void (*ck_tile_dot_fn)(int64_t n, const void *w, const uint8_t *tile, int count, float *out);

/// Bytes of one 256-value block's part of a tile: 32 groups × 64 bytes of quants, 4 × 64 bytes of 16-value sums, and
/// eight doubles (the rows' scales).
#define CK_TILE_BLOCK_BYTES (2048 + 256 + 64)

/// Bytes of a tile of rows of n values (64-byte aligned storage).
size_t ck_tile_bytes(int64_t n);
void ck_tile_q8_K(int64_t n, const void *x, size_t stride, int count, uint8_t *tile);
void ck_tile_dot_q4_K_avx512(int64_t n, const void *w, const uint8_t *tile, int count, float *out);
void ck_tile_dot_q6_K_avx512(int64_t n, const void *w, const uint8_t *tile, int count, float *out);

/// Two weight rows against one tile (each row's outputs the same bits as the one-row tile kernel's): the pair shares
/// the tile's loads.
typedef void (*ck_tile_dot2_fn)(int64_t n, const void *w0, const void *w1, const uint8_t *tile, int count, float *out0,
                                float *out1);
void ck_tile_dot2_q4_K_avx512(int64_t n, const void *w0, const void *w1, const uint8_t *tile, int count, float *out0,
                              float *out1);
void ck_tile_dot2_q6_K_avx512(int64_t n, const void *w0, const void *w1, const uint8_t *tile, int count, float *out0,
                              float *out1);

/// The kernels a type has for batches of activation rows beyond the multi-row one: the interleaved-tile kernel for
/// one and for two weight rows, and the few-rows kernel. All three or none (Q4_K and Q6_K at the AVX-512 level).
typedef struct {
    ck_tile_dot_fn tile;
    ck_tile_dot2_fn tile2;
    ck_dotn_fn few;
} ck_batch_kernels;

/// The batch kernels of a weight type at a level (all NULL when it has none).
ck_batch_kernels ck_batch_kernels_lookup(uint32_t type, int level);

/// Weights repacked in groups of 16 rows (dot_avx512_x16.c): bytes of the layout for a matrix of `n_rows` × `n_cols`
/// of `type`, 0 when the type has no such layout or the shape does not fit it (rows a multiple of 16, whole blocks).
size_t ck_x16_bytes(uint32_t type, int64_t n_rows, int64_t n_cols);
/// Whether a mat-mul of `n_batch` activation rows runs a repacked matrix of `type` through its repacked kernel (Q4_K
/// from 1 activation row, Q6_K from 4: a Q6_K product of 1 row takes the ggml row kernel and one of 2-3 rows the
/// few-rows kernel, which stream from memory faster).
int ck_x16_takes_batch(uint32_t type, int64_t n_batch);
/// Bytes of one group's block (16 rows × 256 values) in the layout, 0 for other types.
size_t ck_x16_block_bytes(uint32_t type);
/// Writes the repacked layout of a ggml matrix (`n_rows` rows of `n_cols` values, rows contiguous) to `dst`
/// (ck_x16_bytes bytes, 64-byte aligned), groups shared out across `pool` (may be NULL). Returns 0, -1 on a bad type
/// or shape.
int ck_x16_repack(sparrow_pool *pool, uint32_t type, const void *w, int64_t n_rows, int64_t n_cols, void *dst);
/// One group of 16 repacked weight rows · `count` (1…8) Q8_K activation rows `x_stride` bytes apart: writes
/// y[a · y_stride + r] for r in 0..<16; each equals the row kernel on ggml row r bit for bit. `prefetch`: whether
/// the kernel prefetches the bytes after the ones it reads (the first tile of activation rows over a group streams
/// it from memory; later tiles over the same group find it in cache). It changes no result.
typedef void (*ck_x16_fn)(int64_t n, const void *w, const void *x, size_t x_stride, int count, float *y,
                          size_t y_stride, int prefetch);
void ck_x16_dot_q4_K_avx512(int64_t n, const void *w, const void *x, size_t x_stride, int count, float *y,
                            size_t y_stride, int prefetch);
void ck_x16_dot_q6_K_avx512(int64_t n, const void *w, const void *x, size_t x_stride, int count, float *y,
                            size_t y_stride, int prefetch);
/// The AVX2 kernels of the same layouts (dot_avx2_x16.c), for CPUs without AVX-512 VNNI.
void ck_x16_dot_q4_K_avx2(int64_t n, const void *w, const void *x, size_t x_stride, int count, float *y,
                          size_t y_stride, int prefetch);
void ck_x16_dot_q6_K_avx2(int64_t n, const void *w, const void *x, size_t x_stride, int count, float *y,
                          size_t y_stride, int prefetch);
/// The repacked kernel of a type at a level, or NULL.
ck_x16_fn ck_x16_lookup(uint32_t type, int level);
/// Activation rows an AMX kernel of the repacked layouts (dot_amx_x16.c) takes per call: `count` 1…this.
#define CK_X16_AMX_MAX_ROWS 16
/// Whether a product of `n_batch` activation rows with a repacked matrix of `type` takes the AMX kernel (where there
/// is one) instead of the VNNI kernel or the ggml rows: from 4 rows, and only with SPARROW_AMX=on (opt-in: slower so
/// far).
int ck_x16_amx_takes_batch(uint32_t type, int64_t n_batch);
/// Nonzero when this CPU and OS run the AMX kernels (AMX-TILE, AMX-INT8, the tile state enabled, Linux's permission
/// granted to the process, AVX-512 as for that level). Asks for the permission on its first call.
int ck_has_amx(void);
/// The AMX kernel of a type at a level (as ck_x16_fn, `count` 1…CK_X16_AMX_MAX_ROWS; the AVX-512 level's, on a CPU
/// with AMX: ck_has_amx), or NULL.
ck_x16_fn ck_x16_amx_lookup(uint32_t type, int level);

/// Whether this CPU has AVX2, FMA and F16C (what the AVX2 level needs).
int ck_has_avx2(void);
/// Nonzero when the CPU (and OS) run the AVX-512 kernels (F, BW, VL, DQ, VNNI).
int ck_has_avx512(void);
/// Whether 1-row products on the AVX-512 repacked Q4_K kernel prefetch on this CPU (sparrow_x16_row_prefetch).
int ck_x16_row_prefetch(void);

/// The kernel for a weight type at a level, or NULL.
ck_dot_fn ck_dot_lookup(uint32_t type, int level);

/// The multi-row kernel for a weight type at a level, or NULL (then batches use the single-row kernel).
ck_dotn_fn ck_dotn_lookup(uint32_t type, int level);

#endif
