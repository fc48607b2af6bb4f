// STREAM's triad (a = b + s·c) over the same pool as the kernels, so `sparrow bench --kernels` can put kernel
// throughput beside the memory bandwidth measured in the same run.
#include "CKernels.h"

typedef struct {
    float *a;
    const float *b, *c;
    float s;
    int64_t n;
} ck_triad_job;

static void ck_triad_part(void *ctx, int ith, int nth) {
    ck_triad_job *job = ctx;
    const int64_t per = (job->n + nth - 1) / nth;
    const int64_t i0 = per * ith;
    const int64_t i1 = i0 + per < job->n ? i0 + per : job->n;
    float *a = job->a;
    const float *b = job->b, *c = job->c;
    const float s = job->s;
    for (int64_t i = i0; i < i1; i++) a[i] = b[i] + s * c[i];
}

void sparrow_triad(sparrow_pool *pool, float *a, const float *b, const float *c, float s, int64_t n) {
    ck_triad_job job = {a, b, c, s, n};
    sparrow_pool_run(pool, ck_triad_part, &job);
}
