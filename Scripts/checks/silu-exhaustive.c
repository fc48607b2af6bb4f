// Every float through sparrow_silu_exp and sparrow_silu_mul at one level (argv[1]: 0 portable, 1 FMA, 2 AVX-512)
// against libm's expf and a / (1 + expf(-a)) * 1.25, bit for bit (NaN payloads and signs compared too, except where
// libm's and this level's NaN differ only in payload, counted apart). Run by ./silu-exhaustive.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "CKernels.h"

#define CHUNK (1 << 20)

static uint32_t bits_of(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

/// Counts a difference between libm's value and the level's for input x (NaNs that differ only in payload apart),
/// printing the first five.
static void compare(const char *what, float x, float libm, float ours, int level, uint64_t *differences,
                    uint64_t *nan_payloads) {
    if (bits_of(libm) == bits_of(ours)) return;
    if (isnan(libm) && isnan(ours)) {
        (*nan_payloads)++;
        return;
    }
    if (*differences < 5) printf("%s(%a): libm %a, level %d %a\n", what, x, libm, level, ours);
    (*differences)++;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: silu-exhaustive LEVEL\n");
        return 2;
    }
    const int level = atoi(argv[1]);
    if (level > sparrow_silu_best_level()) {
        printf("level %d: not run by this CPU\n", level);
        return 0;
    }
    static float x[CHUNK], e[CHUNK], s[CHUNK], b[CHUNK];
    uint64_t exp_differences = 0, silu_differences = 0, nan_payloads = 0;
    for (uint64_t base = 0; base < (1ull << 32); base += CHUNK) {
        for (int i = 0; i < CHUNK; i++) {
            const uint32_t u = (uint32_t)(base + (uint64_t)i);
            memcpy(&x[i], &u, 4);
            b[i] = 1.25f;
        }
        sparrow_silu_exp(level, x, e, CHUNK);
        sparrow_silu_mul(level, x, b, s, CHUNK);
        for (int i = 0; i < CHUNK; i++) {
            compare("e^x", x[i], expf(x[i]), e[i], level, &exp_differences, &nan_payloads);
            compare("silu·1.25", x[i], x[i] / (1.0f + expf(-x[i])) * 1.25f, s[i], level, &silu_differences,
                    &nan_payloads);
        }
    }
    printf("level %d: e^x differences %llu, silu differences %llu, NaN payload differences %llu\n", level,
           (unsigned long long)exp_differences, (unsigned long long)silu_differences, (unsigned long long)nan_payloads);
    return exp_differences == 0 && silu_differences == 0 ? 0 : 1;
}
