// STREAM's triad (a = b + s·c) over the same pool as the kernels, so `sparrow bench --kernels` can put kernel
// throughput beside the memory bandwidth measured in the same run. Parts of 64 Ki elements are handed out through
// a shared counter, as the pool's jobs must (a worker that wakes late may not take part).
#include <stdatomic.h>

#include "CKernels.h"

#define CK_TRIAD_PART 65536

typedef struct {
    float *a;
    const float *b, *c;
    float s;
    int64_t n;
    _Atomic int64_t next;
} ck_triad_job;

static void ck_triad_part(void *ctx, int ith, int nth) {
    (void)ith;
    (void)nth;
    ck_triad_job *job = ctx;
    float *a = job->a;
    const float *b = job->b, *c = job->c;
    const float s = job->s;
    for (;;) {
        const int64_t i0 = atomic_fetch_add(&job->next, CK_TRIAD_PART);
        if (i0 >= job->n) return;
        const int64_t i1 = i0 + CK_TRIAD_PART < job->n ? i0 + CK_TRIAD_PART : job->n;
        for (int64_t i = i0; i < i1; i++) a[i] = b[i] + s * c[i];
    }
}

void sparrow_triad(sparrow_pool *pool, float *a, const float *b, const float *c, float s, int64_t n) {
    ck_triad_job job = {a, b, c, s, n, 0};
    sparrow_pool_run(pool, ck_triad_part, &job);
}
