#include "CKernels.h"

sparrow_cpu_features sparrow_detect_cpu_features(void) {
    sparrow_cpu_features features = {0, 0, 0};
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    features.avx2 = __builtin_cpu_supports("avx2");
    features.fma = __builtin_cpu_supports("fma");
    features.f16c = __builtin_cpu_supports("f16c");
#endif
    return features;
}
