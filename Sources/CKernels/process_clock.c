// Process CPU time, so a benchmark can show how much of the wall time its threads actually ran (the machine may be
// shared).
#include <time.h>

#include "CKernels.h"

double sparrow_process_cpu_seconds(void) {
    struct timespec t;
    if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t) != 0) return 0.0;
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}
