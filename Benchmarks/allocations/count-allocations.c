// A heap-allocation counter for measurements, loaded with LD_PRELOAD into a `sparrow` child process (never linked
// into the product or a test binary). It counts every call of malloc, calloc, realloc, posix_memalign,
// aligned_alloc, memalign, valloc and pvalloc in all threads and, at exit, writes the total to the file named by
// SPARROW_ALLOC_COUNT_FILE (or to stderr). The allocations themselves go to glibc's own entry points
// (__libc_malloc, ...), so nothing changes but the counting.
//
// Diagnosis: with SPARROW_ALLOC_SAMPLE=N (and optionally SPARROW_ALLOC_SKIP=M), every N-th allocation after the
// first M prints its call stack (backtrace_symbols_fd, no allocation) to stderr; pipe it through `swift demangle`.
#define _GNU_SOURCE
#include <errno.h>
#include <execinfo.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

static _Atomic unsigned long long allocations;
static unsigned long long sample_every, sample_skip;
static __thread int in_sampler;

static void count(void) {
    unsigned long long n = atomic_fetch_add_explicit(&allocations, 1, memory_order_relaxed) + 1;
    if (sample_every == 0 || in_sampler || n <= sample_skip || n % sample_every != 0) return;
    in_sampler = 1;  // backtrace() may allocate the first time (it loads libgcc_s)
    void *frames[24];
    int depth = backtrace(frames, 24);
    dprintf(2, "--- allocation %llu\n", n);
    backtrace_symbols_fd(frames, depth, 2);
    in_sampler = 0;
}

void *malloc(size_t size) { count(); return __libc_malloc(size); }
void *calloc(size_t n, size_t size) { count(); return __libc_calloc(n, size); }
void *realloc(void *p, size_t size) { count(); return __libc_realloc(p, size); }
void *memalign(size_t alignment, size_t size) { count(); return __libc_memalign(alignment, size); }
void *aligned_alloc(size_t alignment, size_t size) { count(); return __libc_memalign(alignment, size); }
void *valloc(size_t size) { count(); return __libc_memalign((size_t)sysconf(_SC_PAGESIZE), size); }
void *pvalloc(size_t size) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    count();
    return __libc_memalign(page, (size + page - 1) / page * page);
}
int posix_memalign(void **out, size_t alignment, size_t size) {
    if (alignment < sizeof(void *) || (alignment & (alignment - 1)) != 0) return EINVAL;
    count();
    void *p = __libc_memalign(alignment, size);
    if (p == NULL && size != 0) return ENOMEM;
    *out = p;
    return 0;
}

__attribute__((constructor)) static void start(void) {
    const char *every = getenv("SPARROW_ALLOC_SAMPLE"), *skip = getenv("SPARROW_ALLOC_SKIP");
    if (every) sample_every = strtoull(every, NULL, 10);
    if (skip) sample_skip = strtoull(skip, NULL, 10);
}

__attribute__((destructor)) static void finish(void) {
    unsigned long long total = atomic_load(&allocations);
    const char *path = getenv("SPARROW_ALLOC_COUNT_FILE");
    FILE *out = path && *path ? fopen(path, "w") : NULL;
    if (out) {
        fprintf(out, "%llu\n", total);
        fclose(out);
    } else {
        dprintf(2, "heap allocations: %llu\n", total);
    }
}
