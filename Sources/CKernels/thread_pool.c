// A persistent thread pool: workers are started once and wait for jobs, so a mat-vec costs no thread creation.
// A job is published by bumping `generation` under the mutex; workers spin briefly, then sleep on a condition
// variable. The caller runs part 0 itself and waits until `pending` reaches zero.
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "CKernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CK_PAUSE() _mm_pause()
#else
#define CK_PAUSE() ((void)0)
#endif

#define CK_SPIN 2000

struct sparrow_pool {
    int n_threads;
    pthread_t *threads;
    pthread_mutex_t run_lock;  // serialises callers
    pthread_mutex_t mutex;
    pthread_cond_t start;
    pthread_cond_t done;
    _Atomic uint64_t generation;
    _Atomic int pending;
    _Atomic int stop;
    void (*fn)(void *, int, int);
    void *ctx;
};

typedef struct {
    struct sparrow_pool *pool;
    int index;
} ck_worker_arg;

static void *ck_worker(void *raw) {
    ck_worker_arg arg = *(ck_worker_arg *)raw;
    free(raw);
    struct sparrow_pool *pool = arg.pool;
    uint64_t seen = 0;
    for (;;) {
        int spins = 0;
        while (atomic_load(&pool->generation) == seen && !atomic_load(&pool->stop) && spins < CK_SPIN) {
            CK_PAUSE();
            spins++;
        }
        pthread_mutex_lock(&pool->mutex);
        while (atomic_load(&pool->generation) == seen && !atomic_load(&pool->stop)) {
            pthread_cond_wait(&pool->start, &pool->mutex);
        }
        pthread_mutex_unlock(&pool->mutex);
        if (atomic_load(&pool->stop)) return NULL;
        seen = atomic_load(&pool->generation);
        pool->fn(pool->ctx, arg.index, pool->n_threads);
        if (atomic_fetch_sub(&pool->pending, 1) == 1) {
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
    atomic_store(&pool->pending, pool->n_threads - 1);
    pthread_mutex_lock(&pool->mutex);
    atomic_fetch_add(&pool->generation, 1);
    pthread_cond_broadcast(&pool->start);
    pthread_mutex_unlock(&pool->mutex);

    fn(ctx, 0, pool->n_threads);

    int spins = 0;
    while (atomic_load(&pool->pending) > 0 && spins < CK_SPIN) { CK_PAUSE(); spins++; }
    pthread_mutex_lock(&pool->mutex);
    while (atomic_load(&pool->pending) > 0) pthread_cond_wait(&pool->done, &pool->mutex);
    pthread_mutex_unlock(&pool->mutex);
    pthread_mutex_unlock(&pool->run_lock);
}
