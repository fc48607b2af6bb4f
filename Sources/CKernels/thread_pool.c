// A persistent thread pool: workers are started once and wait for jobs, so a mat-vec costs no thread creation.
//
// One 64-bit word holds the job state: the job's generation (high 32 bits), a "closed" bit and the number of
// workers inside the job (low 31 bits). The caller publishes a job by bumping the generation, runs part 0 itself
// and then closes the job; it waits only for the workers that had already joined. A worker joins by incrementing
// the count while the job is open, so a worker that wakes late (a busy or shared machine) skips a finished job
// instead of holding the caller back. Job functions therefore hand out their work through a shared counter and
// never rely on every thread taking part: whatever the workers did not take, the caller does.
//
// Workers spin for a while on the generation (decode issues a job every few microseconds), then sleep on a
// condition variable. The spin is bounded in time, not in iterations (the cost of a PAUSE differs tenfold between
// CPU generations): long enough to bridge the serial steps between the jobs of one token, short enough not to burn
// a shared core when the engine is idle.
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "CKernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CK_PAUSE() _mm_pause()
#else
#define CK_PAUSE() ((void)0)
#endif

#define CK_SPIN_NS 200000  // workers waiting for the next job
#define CK_WAIT_SPIN_NS 50000  // the caller waiting for workers inside the job

static int64_t ck_now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}
#define CK_CLOSED ((uint64_t)1 << 31)
#define CK_ACTIVE_MASK (CK_CLOSED - 1)
#define CK_GEN(s) ((uint32_t)((s) >> 32))

struct sparrow_pool {
    int n_threads;
    pthread_t *threads;
    pthread_mutex_t run_lock;  // serialises callers
    pthread_mutex_t mutex;
    pthread_cond_t start;
    pthread_cond_t done;
    _Atomic uint64_t state;  // generation << 32 | closed | active workers
    _Atomic int sleeping_caller;
    _Atomic int stop;
    void (*fn)(void *, int, int);
    void *ctx;
};

typedef struct {
    struct sparrow_pool *pool;
    int index;
} ck_worker_arg;

/// Joins the job of generation `gen` if it is still open; returns 1 when joined.
static int ck_join(struct sparrow_pool *pool, uint32_t gen) {
    uint64_t s = atomic_load(&pool->state);
    while (CK_GEN(s) == gen && (s & CK_CLOSED) == 0) {
        if (atomic_compare_exchange_weak(&pool->state, &s, s + 1)) return 1;
    }
    return 0;
}

static void *ck_worker(void *raw) {
    ck_worker_arg arg = *(ck_worker_arg *)raw;
    free(raw);
    struct sparrow_pool *pool = arg.pool;
    uint32_t seen = 0;
    for (;;) {
        const int64_t deadline = ck_now_ns() + CK_SPIN_NS;
        for (int spins = 1; CK_GEN(atomic_load(&pool->state)) == seen && !atomic_load(&pool->stop); spins++) {
            CK_PAUSE();
            if (spins % 64 == 0 && ck_now_ns() > deadline) break;
        }
        if (CK_GEN(atomic_load(&pool->state)) == seen && !atomic_load(&pool->stop)) {
            pthread_mutex_lock(&pool->mutex);
            while (CK_GEN(atomic_load(&pool->state)) == seen && !atomic_load(&pool->stop)) {
                pthread_cond_wait(&pool->start, &pool->mutex);
            }
            pthread_mutex_unlock(&pool->mutex);
        }
        if (atomic_load(&pool->stop)) return NULL;
        seen = CK_GEN(atomic_load(&pool->state));
        if (!ck_join(pool, seen)) continue;  // the caller already finished that job
        pool->fn(pool->ctx, arg.index, pool->n_threads);
        const uint64_t before = atomic_fetch_sub(&pool->state, 1);
        if ((before & CK_ACTIVE_MASK) == 1 && (before & CK_CLOSED) && atomic_load(&pool->sleeping_caller)) {
            pthread_mutex_lock(&pool->mutex);
            pthread_cond_broadcast(&pool->done);
            pthread_mutex_unlock(&pool->mutex);
        }
    }
}

sparrow_pool *sparrow_pool_create(int n_threads) {
    if (n_threads < 1) return NULL;
    struct sparrow_pool *pool = calloc(1, sizeof(struct sparrow_pool));
    if (pool == NULL) return NULL;
    pool->n_threads = n_threads;
    pool->threads = calloc((size_t)n_threads, sizeof(pthread_t));
    if (pool->threads == NULL) { free(pool); return NULL; }
    pthread_mutex_init(&pool->run_lock, NULL);
    pthread_mutex_init(&pool->mutex, NULL);
    pthread_cond_init(&pool->start, NULL);
    pthread_cond_init(&pool->done, NULL);
    for (int i = 1; i < n_threads; i++) {
        ck_worker_arg *arg = malloc(sizeof(ck_worker_arg));
        if (arg != NULL) {
            arg->pool = pool;
            arg->index = i;
        }
        if (arg == NULL || pthread_create(&pool->threads[i], NULL, ck_worker, arg) != 0) {
            free(arg);
            pool->n_threads = i;  // join only what started
            sparrow_pool_destroy(pool);
            return NULL;
        }
    }
    return pool;
}

void sparrow_pool_destroy(sparrow_pool *pool) {
    if (pool == NULL) return;
    pthread_mutex_lock(&pool->mutex);
    atomic_store(&pool->stop, 1);
    pthread_cond_broadcast(&pool->start);
    pthread_mutex_unlock(&pool->mutex);
    for (int i = 1; i < pool->n_threads; i++) pthread_join(pool->threads[i], NULL);
    pthread_cond_destroy(&pool->start);
    pthread_cond_destroy(&pool->done);
    pthread_mutex_destroy(&pool->mutex);
    pthread_mutex_destroy(&pool->run_lock);
    free(pool->threads);
    free(pool);
}

int sparrow_pool_size(const sparrow_pool *pool) { return pool ? pool->n_threads : 1; }

void sparrow_pool_run(sparrow_pool *pool, void (*fn)(void *ctx, int ith, int nth), void *ctx) {
    if (pool == NULL || pool->n_threads == 1) {
        fn(ctx, 0, 1);
        return;
    }
    pthread_mutex_lock(&pool->run_lock);
    pool->fn = fn;
    pool->ctx = ctx;
    // A new generation, open, nobody inside yet. (Every worker of the previous job has left: see below.)
    const uint64_t next = ((uint64_t)(CK_GEN(atomic_load(&pool->state)) + 1)) << 32;
    pthread_mutex_lock(&pool->mutex);
    atomic_store(&pool->state, next);
    pthread_cond_broadcast(&pool->start);
    pthread_mutex_unlock(&pool->mutex);

    fn(ctx, 0, pool->n_threads);

    // Close the job: from now on no worker joins it; wait for those inside.
    uint64_t s = atomic_fetch_or(&pool->state, CK_CLOSED) | CK_CLOSED;
    const int64_t deadline = ck_now_ns() + CK_WAIT_SPIN_NS;
    for (int spins = 1; (s & CK_ACTIVE_MASK) != 0; spins++) {
        CK_PAUSE();
        s = atomic_load(&pool->state);
        if (spins % 64 == 0 && ck_now_ns() > deadline) break;
    }
    if ((s & CK_ACTIVE_MASK) != 0) {
        pthread_mutex_lock(&pool->mutex);
        atomic_store(&pool->sleeping_caller, 1);
        while ((atomic_load(&pool->state) & CK_ACTIVE_MASK) != 0) pthread_cond_wait(&pool->done, &pool->mutex);
        atomic_store(&pool->sleeping_caller, 0);
        pthread_mutex_unlock(&pool->mutex);
    }
    pthread_mutex_unlock(&pool->run_lock);
}

// `sparrow_pool_for`: the job's context, on the caller's stack for the duration of the job.
typedef struct {
    void (*fn)(void *ctx, int64_t index);
    void *ctx;
    int64_t count;
    _Atomic int64_t next;
} ck_for_job;

static void ck_for_part(void *raw, int ith, int nth) {
    (void)ith;
    (void)nth;
    ck_for_job *job = raw;
    for (int64_t i = atomic_fetch_add(&job->next, 1); i < job->count; i = atomic_fetch_add(&job->next, 1)) {
        job->fn(job->ctx, i);
    }
}

void sparrow_pool_for(sparrow_pool *pool, int64_t count, void (*fn)(void *ctx, int64_t index), void *ctx) {
    if (count <= 0) return;
    if (pool == NULL || pool->n_threads == 1 || count == 1) {
        for (int64_t i = 0; i < count; i++) fn(ctx, i);
        return;
    }
    ck_for_job job = {.fn = fn, .ctx = ctx, .count = count};
    atomic_init(&job.next, 0);
    sparrow_pool_run(pool, ck_for_part, &job);
}
