// Mat-vec and mat-mat over a persistent pool. Rows are handed out in chunks through an atomic counter (so a slow
// or shared core does not hold the others back); every output is one call of the same row kernel (or of its
// multi-row version, which keeps each row's arithmetic), whichever thread takes it and however large the batch, so
// results do not depend on either.
#include <stdatomic.h>

#include "CKernels.h"
#include "ck_dot.h"

#define CK_ROWS_PER_CHUNK 16
#define CK_BATCH_TILE 8

typedef struct {
    ck_dot_fn dot;
    ck_dotn_fn dotn;  // NULL when the type has no multi-row kernel
    const uint8_t *w;
    size_t w_row_bytes;
    int64_t n_rows, n_cols;
    const uint8_t *x;
    size_t x_row_bytes;
    int64_t n_batch;
    float *y;
    _Atomic int64_t next;
} ck_matmul_job;

static void ck_matmul_part(void *ctx, int ith, int nth) {
    (void)ith;
    (void)nth;
    ck_matmul_job *job = ctx;
    for (;;) {
        const int64_t r0 = atomic_fetch_add(&job->next, CK_ROWS_PER_CHUNK);
        if (r0 >= job->n_rows) return;
        const int64_t r1 = r0 + CK_ROWS_PER_CHUNK < job->n_rows ? r0 + CK_ROWS_PER_CHUNK : job->n_rows;
        // Tiles of CK_BATCH_TILE activation rows: the chunk's weight rows and the tile's activation rows both stay
        // in L2 while every pair is computed; each output is still one call of the row kernel.
        for (int64_t b0 = 0; b0 < job->n_batch; b0 += CK_BATCH_TILE) {
            const int64_t b1 = b0 + CK_BATCH_TILE < job->n_batch ? b0 + CK_BATCH_TILE : job->n_batch;
            for (int64_t r = r0; r < r1; r++) {
                const uint8_t *wr = job->w + (size_t)r * job->w_row_bytes;
                int64_t b = b0;
                if (job->dotn != NULL) {
                    for (; b + 1 < b1; b += CK_DOTN_MAX) {  // two or more rows left: the multi-row kernel
                        const int count = (int)(b1 - b < CK_DOTN_MAX ? b1 - b : CK_DOTN_MAX);
                        float out[CK_DOTN_MAX];
                        job->dotn(job->n_cols, wr, job->x + (size_t)b * job->x_row_bytes, job->x_row_bytes, count, out);
                        for (int k = 0; k < count; k++) job->y[(b + k) * job->n_rows + r] = out[k];
                    }
                }
                for (; b < b1; b++) {
                    job->y[b * job->n_rows + r] = job->dot(job->n_cols, wr, job->x + (size_t)b * job->x_row_bytes);
                }
            }
        }
    }
}

int sparrow_matmul(sparrow_pool *pool, int level, uint32_t type, const void *w, size_t w_row_bytes, int64_t n_rows,
                   int64_t n_cols, const void *x, size_t x_row_bytes, int64_t n_batch, float *y) {
    const ck_dot_fn dot = ck_dot_lookup(type, level);
    if (dot == NULL || n_rows < 0 || n_cols < 0 || n_batch < 0) return -1;
    ck_matmul_job job = {dot, ck_dotn_lookup(type, level), w, w_row_bytes, n_rows, n_cols, x, x_row_bytes,
                         n_batch, y, 0};
    sparrow_pool_run(pool, ck_matmul_part, &job);
    return 0;
}
