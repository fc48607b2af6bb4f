#ifndef SPARROW_CKERNELS_H
#define SPARROW_CKERNELS_H

#include <stdint.h>

/// CPU features that select SIMD kernels at run time.
typedef struct {
    int avx2;
    int fma;
    int f16c;
} sparrow_cpu_features;

/// Reads the CPU features of the machine this process runs on.
sparrow_cpu_features sparrow_detect_cpu_features(void);

#endif
