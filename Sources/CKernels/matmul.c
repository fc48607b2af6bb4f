// Mat-vec and mat-mat over a persistent pool. Rows are handed out by guided self-scheduling: a thread takes a
// contiguous range of 1/(2·threads) of the rows still left (at least CK_MIN_CHUNK_ROWS, one 16-row group for products
// of several activation rows: see ck_least_rows), so each thread streams long runs of consecutive weight rows, while
// a slow or shared core, or a worker that joins late, still leaves the rest to the others. (Fixed chunks of 16 rows,
// taken alternately by two threads, streamed a decode step's weights at 12-13 GB/s on a 2-core machine where ranges
// like these reach 17-18, the output head 19-20.) Every output is one call of the row kernel or of a multi-row one
// (multi-row, F32 tile rows, few-rows, interleaved tile, repacked group), each of which keeps the row kernel's
// arithmetic for every row, whichever thread takes it and however large the batch, so results depend on neither.
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "CKernels.h"
#include "ck_dot.h"

#define CK_MIN_CHUNK_ROWS 32
#define CK_ROWS_PER_TILE 16
#define CK_BATCH_TILE 8
_Static_assert(CK_ROWS_PER_TILE <= CK_ROWS_PER_F32_TILE, "a tile's weight rows fit the F32 tile-rows kernel");

typedef struct {
    ck_dot_fn dot;
    ck_dotn_fn dotn;  // NULL when the type has no multi-row kernel
    ck_dotn_scaled_fn dotn_scaled;  // NULL unless the type's multi-row kernel can read a tile's scale table (Q4_1)
    ck_dotn_rows_fn dotn_rows;  // NULL unless the type has a kernel for a tile's weight rows at once (F32)
    ck_batch_kernels batch;  // interleaved-tile and few-rows kernels (Q4_K, Q6_K at the AVX-512 level), else NULL
    const uint8_t *w;
    size_t w_row_bytes;
    int64_t n_rows, n_cols;
    const uint8_t *x;
    size_t x_row_bytes;
    int64_t n_batch;
    float *y;
    float *const *y_rows;  // when not NULL, activation row b's outputs go to y_rows[b] (y unused)
    ck_x16_fn x16;  // the repacked kernel, when the product has a repacked copy that this level and batch use
    int x16_rows;   // activation rows per call of x16 (CK_DOTN_MAX, or CK_X16_AMX_MAX_ROWS for the AMX kernels)
    const uint8_t *w16;
    size_t w16_group_bytes;
    _Atomic int64_t next;
} ck_matmul_job;

/// Where a range's outputs go: output (activation row b, weight row r) at y[b · stride + r − first]. The product's own
/// matrix (y, n_rows, 0), or a staging block of a range whose activation rows go to separate arrays (see
/// ck_matmul_rows_staged).
typedef struct {
    float *y;
    size_t stride;
    int64_t first;
} ck_out;

static inline float *ck_out_at(ck_out o, int64_t b, int64_t r) { return o.y + (size_t)b * o.stride + (r - o.first); }

/// Doubles of the scale table a tile keeps on the stack (16 KB): 16 per 32-value block, so rows of up to 4096 values.
#define CK_TILE_SCALES 2048

/// The scale table of a tile of `count` Q8_1 activation rows (the rows a Q4_1 weight pairs with): per 32-value block,
/// the rows' d then their s, eight each, as doubles (zero past `count`). Returns 0 when the rows are too long for
/// CK_TILE_SCALES.
static int ck_tile_scales_q8_1(int64_t n, const uint8_t *x, size_t stride, int count, double *table) {
    const int64_t blocks = n / 32;
    if (blocks * 16 > CK_TILE_SCALES) return 0;
    for (int64_t i = 0; i < blocks; i++) {
        for (int k = 0; k < CK_DOTN_MAX; k++) {
            const blk_q8_1s *b = (const blk_q8_1s *)(x + (size_t)k * stride) + i;
            table[16 * i + k] = k < count ? (double)b->d : 0.0;
            table[16 * i + 8 + k] = k < count ? (double)b->s : 0.0;
        }
    }
    return 1;
}

/// Rows r0..<r1 (at most CK_ROWS_PER_TILE) of one product against every activation row.
static void ck_matmul_tile(const ck_matmul_job *job, int64_t r0, int64_t r1, ck_out o) {
    // Tiles of CK_BATCH_TILE (= CK_DOTN_MAX) activation rows: the weight rows and the tile's activation rows both
    // stay in L2 while every pair is computed; each output is still one call of the row kernel or of its multi-row
    // version.
    double scales[CK_TILE_SCALES];
    for (int64_t b0 = 0; b0 < job->n_batch; b0 += CK_BATCH_TILE) {
        const int64_t b1 = b0 + CK_BATCH_TILE < job->n_batch ? b0 + CK_BATCH_TILE : job->n_batch;
        const int count = (int)(b1 - b0);
        const uint8_t *x = job->x + (size_t)b0 * job->x_row_bytes;
        if (job->dotn_rows != NULL && count >= 2) {  // all the weight rows at once (at most CK_ROWS_PER_F32_TILE)
            job->dotn_rows(job->n_cols, job->w + (size_t)r0 * job->w_row_bytes, job->w_row_bytes, (int)(r1 - r0), x,
                           job->x_row_bytes, count, ck_out_at(o, b0, r0), o.stride);
            continue;
        }
        if (job->dotn != NULL && count >= 2) {  // two or more rows: the multi-row kernel
            const int scaled = job->dotn_scaled != NULL &&
                               ck_tile_scales_q8_1(job->n_cols, x, job->x_row_bytes, count, scales);
            for (int64_t r = r0; r < r1; r++) {
                const uint8_t *wr = job->w + (size_t)r * job->w_row_bytes;
                float out[CK_DOTN_MAX];
                if (scaled) {
                    job->dotn_scaled(job->n_cols, wr, x, job->x_row_bytes, count, scales, out);
                } else {
                    job->dotn(job->n_cols, wr, x, job->x_row_bytes, count, out);
                }
                for (int k = 0; k < count; k++) *ck_out_at(o, b0 + k, r) = out[k];
            }
            continue;
        }
        for (int64_t r = r0; r < r1; r++) {
            const uint8_t *wr = job->w + (size_t)r * job->w_row_bytes;
            for (int64_t b = b0; b < b1; b++) {
                *ck_out_at(o, b, r) = job->dot(job->n_cols, wr, job->x + (size_t)b * job->x_row_bytes);
            }
        }
    }
}

/// Activation rows from which a batch tile goes through an interleaved tile; fewer go through the few-rows kernel (a
/// tile costs the same for 2 rows as for 8: measured on 2 and 3 rows, the few-rows kernel was faster).
#define CK_TILE_MIN_ROWS 4

/// Weight rows per pass over a batch's tiles when the batch has more than one tile (prefill): 256 rows of a
/// 2048-wide Q4_K matrix are 295 KB, which stay in L2 while every batch tile of 8 activation rows is built once and
/// run over them.
#define CK_TILED_CHUNK_ROWS 256

/// Rows r0..<r1 of a product of `count` activation rows starting at batch row b0, each output one call of the tile,
/// few-rows or row kernel.
static void ck_matmul_batch_tile(const ck_matmul_job *job, int64_t r0, int64_t r1, int64_t b0, int count,
                                 uint8_t *tile, ck_out o) {
    const uint8_t *x = job->x + (size_t)b0 * job->x_row_bytes;
    float out[CK_DOTN_MAX];
    if (count >= CK_TILE_MIN_ROWS) {
        ck_tile_q8_K(job->n_cols, x, job->x_row_bytes, count, tile);
        int64_t r = r0;
        for (; r + 1 < r1; r += 2) {  // pairs of weight rows share the tile's loads
            float out1[CK_DOTN_MAX];
            const uint8_t *w = job->w + (size_t)r * job->w_row_bytes;
            job->batch.tile2(job->n_cols, w, w + job->w_row_bytes, tile, count, out, out1);
            for (int k = 0; k < count; k++) {
                *ck_out_at(o, b0 + k, r) = out[k];
                *ck_out_at(o, b0 + k, r + 1) = out1[k];
            }
        }
        if (r < r1) {
            job->batch.tile(job->n_cols, job->w + (size_t)r * job->w_row_bytes, tile, count, out);
            for (int k = 0; k < count; k++) *ck_out_at(o, b0 + k, r) = out[k];
        }
    } else if (count >= 2) {
        for (int64_t r = r0; r < r1; r++) {
            job->batch.few(job->n_cols, job->w + (size_t)r * job->w_row_bytes, x, job->x_row_bytes, count, out);
            for (int k = 0; k < count; k++) *ck_out_at(o, b0 + k, r) = out[k];
        }
    } else {
        for (int64_t r = r0; r < r1; r++) {
            *ck_out_at(o, b0, r) = job->dot(job->n_cols, job->w + (size_t)r * job->w_row_bytes, x);
        }
    }
}

/// Blocks of the longest row an interleaved activation tile takes (on the stack: 37 KB).
#define CK_TILE_MAX_BLOCKS 16

static void ck_matmul_rows_ggml(const ck_matmul_job *job, int64_t r0, int64_t r1, ck_out o);

/// Rows r0..<r1 of one product that has a repacked copy: whole groups of 16 rows through the repacked kernel
/// (tiles of up to 8 activation rows), rows before the first and after the last whole group through the ggml rows.
/// (The pool's ranges start and end on groups, so those edges are only a guard for callers that hand out others.)
static void ck_matmul_rows_x16(const ck_matmul_job *job, int64_t r0, int64_t r1, ck_out o) {
    const int64_t g0 = (r0 + 15) / 16, g1 = r1 / 16;
    if (g0 >= g1) {
        ck_matmul_rows_ggml(job, r0, r1, o);
        return;
    }
    if (r0 < 16 * g0) ck_matmul_rows_ggml(job, r0, 16 * g0, o);
    for (int64_t g = g0; g < g1; g++) {
        const uint8_t *w = job->w16 + (size_t)g * job->w16_group_bytes;
        for (int64_t b0 = 0; b0 < job->n_batch; b0 += job->x16_rows) {
            const int64_t left = job->n_batch - b0;
            job->x16(job->n_cols, w, job->x + (size_t)b0 * job->x_row_bytes, job->x_row_bytes,
                     (int)(left < job->x16_rows ? left : job->x16_rows), ck_out_at(o, b0, 16 * g), o.stride, b0 == 0);
        }
    }
    if (16 * g1 < r1) ck_matmul_rows_ggml(job, 16 * g1, r1, o);
}

/// Weight rows per staging block of ck_matmul_rows_staged (a multiple of 16, so repacked groups stay whole; the
/// ggml tile kernels rebuild their activation tile once per block).
#define CK_STAGE_ROWS 64

static void ck_matmul_rows_to(const ck_matmul_job *job, int64_t r0, int64_t r1, ck_out o) {
    if (job->x16 != NULL) {
        ck_matmul_rows_x16(job, r0, r1, o);
    } else {
        ck_matmul_rows_ggml(job, r0, r1, o);
    }
}

/// Rows r0..<r1 of a product whose activation rows' outputs go to separate arrays (y_rows): computed block by
/// block into a staging block on the stack, each block's rows then copied to their arrays (from L1). The same kernel
/// calls as into one matrix, so the same bits.
static void ck_matmul_rows_staged(const ck_matmul_job *job, int64_t r0, int64_t r1) {
    _Alignas(64) float stage[SPARROW_MAX_SEPARATE_OUTPUT_ROWS * CK_STAGE_ROWS];
    for (int64_t s0 = r0; s0 < r1; s0 += CK_STAGE_ROWS) {
        const int64_t s1 = s0 + CK_STAGE_ROWS < r1 ? s0 + CK_STAGE_ROWS : r1;
        ck_matmul_rows_to(job, s0, s1, (ck_out){stage, CK_STAGE_ROWS, s0});
        for (int64_t b = 0; b < job->n_batch; b++) {
            memcpy(job->y_rows[b] + s0, stage + b * CK_STAGE_ROWS, (size_t)(s1 - s0) * sizeof(float));
        }
    }
}

static void ck_matmul_rows(const ck_matmul_job *job, int64_t r0, int64_t r1) {
    if (job->y_rows != NULL) {
        ck_matmul_rows_staged(job, r0, r1);
    } else {
        ck_matmul_rows_to(job, r0, r1, (ck_out){job->y, (size_t)job->n_rows, 0});
    }
}

/// Rows r0..<r1 of one product in the ggml layout. Types with tile and few-rows kernels (Q4_K, Q6_K at the AVX-512
/// level) take the batch in tiles of up to 8 activation rows, each tile built once per pass over up to
/// CK_TILED_CHUNK_ROWS weight rows (once for the whole range when the batch is one tile, as in decoding). Other types
/// go CK_ROWS_PER_TILE weight rows at a time through the multi-row or row kernel.
static void ck_matmul_rows_ggml(const ck_matmul_job *job, int64_t r0, int64_t r1, ck_out o) {
    if (job->batch.tile != NULL && job->n_batch >= 2 &&
        ck_tile_bytes(job->n_cols) <= CK_TILE_MAX_BLOCKS * CK_TILE_BLOCK_BYTES) {
        _Alignas(64) uint8_t tile[CK_TILE_MAX_BLOCKS * CK_TILE_BLOCK_BYTES];
        const int64_t chunk = job->n_batch <= CK_DOTN_MAX ? r1 - r0 : CK_TILED_CHUNK_ROWS;
        for (int64_t c0 = r0; c0 < r1; c0 += chunk) {
            const int64_t c1 = c0 + chunk < r1 ? c0 + chunk : r1;
            for (int64_t b0 = 0; b0 < job->n_batch; b0 += CK_DOTN_MAX) {
                const int64_t left = job->n_batch - b0;
                ck_matmul_batch_tile(job, c0, c1, b0, (int)(left < CK_DOTN_MAX ? left : CK_DOTN_MAX), tile, o);
            }
        }
        return;
    }
    for (int64_t t = r0; t < r1; t += CK_ROWS_PER_TILE) {
        ck_matmul_tile(job, t, t + CK_ROWS_PER_TILE < r1 ? t + CK_ROWS_PER_TILE : r1, o);
    }
}

/// Takes the next range [*r0, *r1) of `total` rows: 1/(2·nth) of what is left, at least `least` rows.
/// Returns 0 when every row has been taken.
static int ck_take_rows(_Atomic int64_t *next, int64_t total, int nth, int64_t least, int64_t *r0, int64_t *r1) {
    int64_t start = atomic_load(next);
    for (;;) {
        if (start >= total) return 0;
        int64_t size = (total - start) / (2 * (int64_t)(nth > 0 ? nth : 1));
        if (size < least) size = least;
        size = (size + 15) / 16 * 16;  // ranges start on 16-row groups (every product starts on one: see ck_matmul_many_run)
        const int64_t end = size < total - start ? start + size : total;
        if (atomic_compare_exchange_weak(next, &start, end)) {
            *r0 = start;
            *r1 = end;
            return 1;
        }
    }
}

/// The smallest range a thread takes of a product of `n_batch` activation rows. The last ranges of a job decide
/// how long one thread works alone: a range of 32 weight rows against 8 activation rows takes ~55 µs (2,048 columns)
/// to ~110 µs (4,096), so batched products go down to one 16-row group.
static int64_t ck_least_rows(int64_t n_batch) { return n_batch >= 2 ? 16 : CK_MIN_CHUNK_ROWS; }

static void ck_matmul_part(void *ctx, int ith, int nth) {
    (void)ith;
    ck_matmul_job *job = ctx;
    int64_t r0, r1;
    while (ck_take_rows(&job->next, job->n_rows, nth, ck_least_rows(job->n_batch), &r0, &r1)) {
        ck_matmul_rows(job, r0, r1);
    }
}

/// Fills a job with the kernels of `type` at `level`; 0 when the level has no row kernel for the type or a size is
/// negative.
static int ck_make_job(ck_matmul_job *job, uint32_t type, int level, const void *w, size_t w_row_bytes,
                       int64_t n_rows, int64_t n_cols, const void *x, size_t x_row_bytes, int64_t n_batch, float *y,
                       float *const *y_rows, const void *w16) {
    const ck_dot_fn dot = ck_dot_lookup(type, level);
    if (dot == NULL || n_rows < 0 || n_cols < 0 || n_batch < 0) return 0;
    if (y_rows != NULL && n_batch > SPARROW_MAX_SEPARATE_OUTPUT_ROWS) return 0;
    const int repacked = w16 != NULL && ck_x16_bytes(type, n_rows, n_cols) != 0;
    const ck_x16_fn amx = repacked && ck_x16_amx_takes_batch(type, n_batch) ? ck_x16_amx_lookup(type, level) : NULL;
    ck_x16_fn x16 = amx;
    if (x16 == NULL && repacked && ck_x16_takes_batch(type, n_batch)) x16 = ck_x16_lookup(type, level);
    *job = (ck_matmul_job){dot, ck_dotn_lookup(type, level), ck_dotn_scaled_lookup(type, level),
                           ck_dotn_rows_lookup(type, level), ck_batch_kernels_lookup(type, level), w, w_row_bytes,
                           n_rows, n_cols, x, x_row_bytes, n_batch, y, y_rows, x16,
                           amx != NULL ? CK_X16_AMX_MAX_ROWS : CK_DOTN_MAX, x16 != NULL ? w16 : NULL,
                           x16 != NULL ? (size_t)(n_cols / QK_K) * ck_x16_block_bytes(type) : 0, 0};
    return 1;
}

int sparrow_matmul(sparrow_pool *pool, int level, uint32_t type, const void *w, size_t w_row_bytes, int64_t n_rows,
                   int64_t n_cols, const void *x, size_t x_row_bytes, int64_t n_batch, float *y,
                   const void *w_repacked) {
    ck_matmul_job job;
    if (!ck_make_job(&job, type, level, w, w_row_bytes, n_rows, n_cols, x, x_row_bytes, n_batch, y, NULL,
                     w_repacked)) {
        return -1;
    }
    sparrow_pool_run(pool, ck_matmul_part, &job);
    return 0;
}

// Several products in one pool job: their rows, laid end to end, are handed out as one range of rows, so a step's
// small matrices (q, k, v; gate and up; every active expert) keep both cores busy for one wake-up instead of one
// each, and a taken range may run from one product into the next. Each product starts on a multiple of 16 of that
// global index (a product whose rows are not a multiple of 16 is followed by unused indices up to the next one), so
// the ranges, which are multiples of 16 long, start on a 16-row group of every product: a product with a repacked
// copy reads only the copy, whatever came before it. Every output is still one row-kernel call, so the results
// equal separate sparrow_matmul calls bit for bit.
#define CK_MANY_STACK 64

typedef struct {
    ck_matmul_job *jobs;
    int64_t *first_row;  // first_row[i]: the global index of product i's first row (a multiple of 16); [count] = end
    int64_t count;
    int64_t least_rows;  // ck_least_rows of the largest batch among the products
    _Atomic int64_t next;
} ck_many_job;

static void ck_many_part(void *ctx, int ith, int nth) {
    (void)ith;
    ck_many_job *many = ctx;
    const int64_t *first = many->first_row;
    int64_t product = 0, g0, g1;
    while (ck_take_rows(&many->next, first[many->count], nth, many->least_rows, &g0, &g1)) {
        // Ranges are taken in increasing order, so the product index only moves forward.
        while (g0 < g1) {
            while (g0 >= first[product + 1]) product++;
            const ck_matmul_job *job = &many->jobs[product];
            const int64_t end = g1 < first[product + 1] ? g1 : first[product + 1];
            const int64_t r0 = g0 - first[product], r1 = end - first[product];
            if (r0 < job->n_rows) ck_matmul_rows(job, r0, r1 < job->n_rows ? r1 : job->n_rows);  // past n_rows: padding
            g0 = end;
        }
    }
}

// Fills `jobs` and `first` (count + 1 entries) from `products` and runs them in one pool job.
static int ck_matmul_many_run(sparrow_pool *pool, const sparrow_product *products, int64_t count,
                              ck_matmul_job *jobs, int64_t *first) {
    first[0] = 0;
    int64_t largest_batch = 0;
    for (int64_t i = 0; i < count; i++) {
        const sparrow_product *p = &products[i];
        if (p->n_batch > largest_batch) largest_batch = p->n_batch;
        if (!ck_make_job(&jobs[i], p->type, p->level, p->w, p->w_row_bytes, p->n_rows, p->n_cols, p->x,
                         p->x_row_bytes, p->n_batch, p->y, p->y_rows, p->w_repacked)) {
            return -1;
        }
        first[i + 1] = first[i] + (p->n_batch > 0 ? (p->n_rows + 15) / 16 * 16 : 0);
    }
    ck_many_job many = {jobs, first, count, ck_least_rows(largest_batch), 0};
    sparrow_pool_run(pool, ck_many_part, &many);
    return 0;
}

int sparrow_matmul_many(sparrow_pool *pool, const sparrow_product *products, int64_t count) {
    if (count <= 0) return count == 0 ? 0 : -1;
    ck_matmul_job stack_jobs[CK_MANY_STACK];
    int64_t stack_first[CK_MANY_STACK + 1];
    ck_matmul_job *jobs = stack_jobs;
    int64_t *first = stack_first;
    if (count > CK_MANY_STACK) {  // callers that run many products each step pass scratch instead (below)
        jobs = malloc((size_t)count * sizeof(ck_matmul_job));
        first = malloc((size_t)(count + 1) * sizeof(int64_t));
        if (jobs == NULL || first == NULL) { free(jobs); free(first); return -2; }
    }
    const int status = ck_matmul_many_run(pool, products, count, jobs, first);
    if (jobs != stack_jobs) { free(jobs); free(first); }
    return status;
}

size_t sparrow_matmul_many_scratch_bytes(int64_t count) {
    return count <= 0 ? 0 : (size_t)count * sizeof(ck_matmul_job) + (size_t)(count + 1) * sizeof(int64_t);
}

int sparrow_matmul_many_with(sparrow_pool *pool, const sparrow_product *products, int64_t count, void *scratch) {
    if (count <= 0) return count == 0 ? 0 : -1;
    if (scratch == NULL) return -2;
    ck_matmul_job *jobs = scratch;
    return ck_matmul_many_run(pool, products, count, jobs, (int64_t *)(jobs + count));
}
