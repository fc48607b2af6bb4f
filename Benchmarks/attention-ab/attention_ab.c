// Two builds of Sources/CKernels/attention.c side by side in one process: `base_` (a git revision's) and `head_`
// (the working tree's), each compiled with its public symbols renamed (see `run` beside this file). They take turns
// step by step over the same paged KV caches, so a slow stretch of a shared machine's memory slows both alike, and
// every step's outputs of the two are compared bit for bit (a difference fails the run: a speed change must not
// change a result). Built and run by `run`; not part of Sparrow.
//
// Usage: attention_ab LAYERS POSITIONS ROWS STEPS THREADS PATH [COLD_MB]
// One step: for each of LAYERS layers, one attention call over ROWS query rows, each row reading its own cache of
// POSITIONS positions (every row and layer has its own pages, so the step streams LAYERS · ROWS caches, as a decode
// step of ROWS sequences does). Shapes are qwen3moe's and qwen3next's attention: 32 query heads, 4 KV heads of 128
// values, pages of 32 positions that keep each head's positions together (KVCacheState's layout). PATH: fastest
// (`sparrow_attention`, what the engine runs) or avx2. COLD_MB (default 0): megabytes written, untimed, before each
// build's step, so that the caches are read from memory as in a decode step, whose weights stream through L2 and L3
// between one step's attention and the next.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "CKernels.h"

typedef int (*attention_fn)(sparrow_pool *, const sparrow_attention_row *, int64_t, int, int, int, float *, int64_t);

#define DECLARE(prefix)                                                                                          \
    int prefix##sparrow_attention(sparrow_pool *, const sparrow_attention_row *, int64_t, int, int, int, float *, \
                                  int64_t);                                                                      \
    int prefix##sparrow_attention_avx2(sparrow_pool *, const sparrow_attention_row *, int64_t, int, int, int,     \
                                       float *, int64_t);                                                        \
    int64_t prefix##sparrow_attention_scratch_floats(int, int, int, int64_t);
DECLARE(base_)
DECLARE(head_)

enum { HEADS = 32, KV_HEADS = 4, HEAD_DIM = 128, PAGE = 32 };

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void *allocate(size_t bytes) {
    void *p = aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (p == NULL) {
        fprintf(stderr, "attention_ab: out of memory (%zu bytes)\n", bytes);
        exit(1);
    }
    return p;
}

int main(int argc, char **argv) {
    if (argc != 7 && argc != 8) {
        fprintf(stderr, "usage: attention_ab LAYERS POSITIONS ROWS STEPS THREADS fastest|avx2 [COLD_MB]\n");
        return 2;
    }
    const long cold_mb = argc == 8 ? atol(argv[7]) : 0;
    const int layers = atoi(argv[1]), positions = atoi(argv[2]), rows = atoi(argv[3]), steps = atoi(argv[4]),
              threads = atoi(argv[5]);
    const int avx2 = strcmp(argv[6], "avx2") == 0;
    if (layers < 1 || positions < 1 || rows < 1 || steps < 1 || threads < 1 || cold_mb < 0 ||
        (!avx2 && strcmp(argv[6], "fastest"))) {
        fprintf(stderr, "attention_ab: expected positive LAYERS POSITIONS ROWS STEPS THREADS, fastest or avx2, and a "
                        "COLD_MB of 0 or more\n");
        return 2;
    }
    const attention_fn variants[2] = {avx2 ? base_sparrow_attention_avx2 : base_sparrow_attention,
                                      avx2 ? head_sparrow_attention_avx2 : head_sparrow_attention};
    sparrow_pool *pool = sparrow_pool_create(threads);
    if (pool == NULL) {
        fprintf(stderr, "attention_ab: could not create a pool of %d threads\n", threads);
        return 1;
    }

    // Caches: one per (layer, row), pages allocated one by one as the engine does, values fixed and varied.
    const int pages = (positions + PAGE - 1) / PAGE, caches = layers * rows;
    const size_t page_floats = (size_t)KV_HEADS * PAGE * HEAD_DIM;
    const float **keys = allocate(sizeof(float *) * (size_t)caches * (size_t)positions);
    const float **values = allocate(sizeof(float *) * (size_t)caches * (size_t)positions);
    for (int c = 0; c < caches; c++) {
        for (int g = 0; g < pages; g++) {
            float *k = allocate(page_floats * sizeof(float)), *v = allocate(page_floats * sizeof(float));
            for (size_t i = 0; i < page_floats; i++) {
                k[i] = (float)((i * 7 + (size_t)(c + g)) % 13) / 13.0f - 0.5f;
                v[i] = (float)((i * 5 + (size_t)(c + g)) % 11) / 11.0f - 0.5f;
            }
            for (int p = g * PAGE; p < (g + 1) * PAGE && p < positions; p++) {
                keys[(size_t)c * (size_t)positions + (size_t)p] = k + (p - g * PAGE) * HEAD_DIM;
                values[(size_t)c * (size_t)positions + (size_t)p] = v + (p - g * PAGE) * HEAD_DIM;
            }
        }
    }
    const size_t row_floats = (size_t)HEADS * HEAD_DIM;
    float *q = allocate(sizeof(float) * (size_t)rows * row_floats);
    float *out[2] = {allocate(sizeof(float) * (size_t)layers * rows * row_floats),
                     allocate(sizeof(float) * (size_t)layers * rows * row_floats)};
    for (size_t i = 0; i < (size_t)rows * row_floats; i++) q[i] = (float)(i % 17) / 17.0f - 0.25f;
    int64_t scratch_floats = base_sparrow_attention_scratch_floats(HEADS, KV_HEADS, HEAD_DIM, positions);
    const int64_t head_scratch = head_sparrow_attention_scratch_floats(HEADS, KV_HEADS, HEAD_DIM, positions);
    if (head_scratch > scratch_floats) scratch_floats = head_scratch;
    float *scratch = allocate(sizeof(float) * (size_t)scratch_floats * (size_t)threads);
    sparrow_attention_row *table = allocate(sizeof(sparrow_attention_row) * (size_t)rows);

    const size_t cold_bytes = (size_t)cold_mb << 20;
    unsigned char *cold = cold_bytes > 0 ? allocate(cold_bytes) : NULL;

    double total[2] = {0, 0};
    const int warm_up = 1;
    for (int step = 0; step < warm_up + steps; step++) {
        for (int v = 0; v < 2; v++) {
            if (cold != NULL) memset(cold, step + v, cold_bytes);  // evicts the caches, untimed
            const double start = now();
            for (int l = 0; l < layers; l++) {
                for (int r = 0; r < rows; r++) {
                    const size_t c = (size_t)(l * rows + r);
                    table[r] = (sparrow_attention_row){q + (size_t)r * row_floats,
                                                       out[v] + c * row_floats,
                                                       keys + c * (size_t)positions,
                                                       values + c * (size_t)positions,
                                                       positions,
                                                       PAGE * HEAD_DIM};
                }
                if (variants[v](pool, table, rows, HEADS, KV_HEADS, HEAD_DIM, scratch, positions) != 0) {
                    fprintf(stderr, "attention_ab: the %s build refused the call\n", v == 0 ? "base" : "head");
                    return 1;
                }
            }
            if (step >= warm_up) total[v] += now() - start;
        }
        if (memcmp(out[0], out[1], sizeof(float) * (size_t)layers * rows * row_floats) != 0) {
            fprintf(stderr, "attention_ab: step %d: the two builds' outputs differ\n", step);
            return 1;
        }
    }
    const double bytes = 2.0 * layers * rows * (double)positions * KV_HEADS * HEAD_DIM * sizeof(float);
    printf("%d layers x %d rows x %d positions (%s, %d threads, %d steps%s): base %.3f ms, head %.3f ms per step "
           "(%.1f and %.1f GB/s of K and V), head/base %.3f; outputs equal bit for bit\n",
           layers, rows, positions, avx2 ? "avx2" : "fastest", threads, steps, cold != NULL ? ", caches cold" : "",
           1e3 * total[0] / steps, 1e3 * total[1] / steps, bytes / (total[0] / steps) / 1e9,
           bytes / (total[1] / steps) / 1e9, total[1] / total[0]);
    return 0;
}
