#include "CKernels.h"

#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

// XGETBV(0) without the xsave target attribute; only called when CPUID says OSXSAVE is set.
static uint64_t ck_xgetbv0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}
#endif

int sparrow_avx512_usable(uint32_t cpuid1_ecx, uint32_t cpuid7_ebx, uint32_t cpuid7_ecx, uint64_t xcr0) {
    const uint32_t osxsave = 1u << 27;
    const uint32_t f_dq_bw_vl = (1u << 16) | (1u << 17) | (1u << 30) | (1u << 31);
    const uint32_t vnni = 1u << 11;
    const uint64_t state = (1u << 1) | (1u << 2) | (1u << 5) | (1u << 6) | (1u << 7);  // xmm, ymm, k, zmm0-15 hi, zmm16-31
    return (cpuid1_ecx & osxsave) != 0 && (cpuid7_ebx & f_dq_bw_vl) == f_dq_bw_vl && (cpuid7_ecx & vnni) != 0 &&
           (xcr0 & state) == state;
}

int sparrow_cpu_vendor(char vendor[13]) {
    vendor[0] = '\0';
#if defined(__x86_64__) || defined(__i386__)
    unsigned a, b, c, d;
    if (!__get_cpuid(0, &a, &b, &c, &d)) return 0;
    memcpy(vendor, &b, 4);  // EBX, EDX, ECX: "Genu" "ineI" "ntel"
    memcpy(vendor + 4, &d, 4);
    memcpy(vendor + 8, &c, 4);
    vendor[12] = '\0';
    return 1;
#else
    return 0;
#endif
}

int sparrow_cpu_display_family(uint32_t cpuid1_eax) {
    const int base = (int)((cpuid1_eax >> 8) & 0xF);
    return base == 0xF ? base + (int)((cpuid1_eax >> 20) & 0xFF) : base;
}

int sparrow_x16_row_prefetch(const char *vendor, int family) {
    return !(strcmp(vendor, "AuthenticAMD") == 0 && family == 25);
}

sparrow_cpu_features sparrow_detect_cpu_features(void) {
    sparrow_cpu_features features = {0, 0, 0, 0, 0, 0};
    char vendor[13];
    sparrow_cpu_vendor(vendor);
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    features.avx2 = __builtin_cpu_supports("avx2");
    features.fma = __builtin_cpu_supports("fma");
    features.f16c = __builtin_cpu_supports("f16c");
    unsigned a, b, c, d;
    if (__get_cpuid(1, &a, &b, &c, &d)) {
        const uint32_t ecx1 = c;
        features.family = sparrow_cpu_display_family(a);
        if ((ecx1 & (1u << 27)) != 0 && __get_cpuid_max(0, NULL) >= 7) {
            __cpuid_count(7, 0, a, b, c, d);
            features.avx512 = sparrow_avx512_usable(ecx1, b, c, ck_xgetbv0());
        }
    }
#endif
    features.x16_row_prefetch = sparrow_x16_row_prefetch(vendor, features.family);
    return features;
}
