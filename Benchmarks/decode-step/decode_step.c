// One qwen3moe decode step's matrix products, timed by phase, on a real GGUF file's tensors: for each layer q/k/v
// (one job), o, gate+up of the experts the step's tokens route to (one job), their down products (one job); then the
// output matrix. Routing is uniform random (the bench files' random weights route close to uniformly), each token
// to `top_k` distinct experts, so with B tokens the step reads every expert chosen at least once, as the engine
// does. Activations are fixed quantized rows: only the time of the products is measured, nothing else of the model.
// Built and run by `run` beside it (compiled with the CKernels sources); not part of Sparrow.
//
// Usage: decode_step TENSORS.txt MODEL.gguf THREADS BATCH STEPS
// DECODE_STEP_REPACK=1: the Q4_K and Q6_K matrices also get repacked copies; DECODE_STEP_MEMORY=1: the file is
// copied into huge-page memory first (`model.weights: memory`). Both together are what `model.weights: repacked`
// loads; DECODE_STEP_REPACK=1 alone is the file mapped plus copies (what `repacked` loaded before 2026-11-30 15:40).
// DECODE_STEP_X16_MIN=2,3,...: with DECODE_STEP_REPACK=1, up to 16 variants that take turns step by step (so that a
// slow stretch of a shared machine slows each alike): a product hands its repacked copy to the kernels only from that
// many activation rows. The library's own rule (`ck_x16_takes_batch`: Q4_K from 1 row, Q6_K from 4) applies on top,
// so 1-3 act as 4 for Q6_K unless a build relaxes that rule. Each variant's mean step time and output-matrix time are
// printed; the phase totals above them mix all variants.
// DECODE_STEP_LEVEL=avx2: the AVX2 kernels (and AVX2 repacked kernels) on a machine with AVX-512.
// TENSORS.txt: one line per tensor, "name type offset bytes dim0 dim1 [dim2]" (offset from the start of the file).
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>

#include "CKernels.h"

typedef struct {
    char name[96];
    int type;
    size_t offset, bytes;
    long dims[3];
} tensor;

static tensor tensors[4096];
static int tensor_count;
/// Repacked copies (DECODE_STEP_REPACK=1), per tensor; NULL where the type has none.
static uint8_t *repacked[4096];
static size_t repacked_each[4096];  // bytes per matrix (per expert for a 3-D tensor)

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static const tensor *find(const char *name) {
    for (int i = 0; i < tensor_count; i++) {
        if (strcmp(tensors[i].name, name) == 0) return &tensors[i];
    }
    fprintf(stderr, "decode_step: no tensor %s\n", name);
    exit(2);
}

static const tensor *layer_tensor(int layer, const char *what) {
    char name[96];
    snprintf(name, sizeof name, "blk.%d.%s.weight", layer, what);
    return find(name);
}

/// Bytes of one row (one output) of a matrix, or of one expert's matrix.
static size_t row_bytes(const tensor *t) {
    const long matrices = t->dims[2] > 0 ? t->dims[2] : 1;
    return t->bytes / (size_t)(t->dims[1] * matrices);
}

/// Activation rows from which a product is given its repacked copy (DECODE_STEP_X16_MIN: this step's variant).
static long x16_min_rows = 1;

/// The repacked copy of matrix `expert` (0 for a 2-D tensor) of `t` for a product of `rows` activation rows, or NULL.
static const void *x16(const tensor *t, long expert, long rows) {
    if (rows < x16_min_rows) return NULL;
    const long i = t - tensors;
    return repacked[i] == NULL ? NULL : repacked[i] + (size_t)expert * repacked_each[i];
}

/// Makes repacked copies of every tensor that has the layout, in huge-page memory, on `pool`.
static void repack_all(sparrow_pool *pool, const uint8_t *file) {
    size_t total = 0;
    for (int i = 0; i < tensor_count; i++) {
        const tensor *t = &tensors[i];
        const long matrices = t->dims[2] > 0 ? t->dims[2] : 1;
        const size_t each = sparrow_repacked_bytes((uint32_t)t->type, t->dims[1], t->dims[0]);
        if (each == 0 || strcmp(t->name, "token_embd.weight") == 0) continue;
        const size_t bytes = (each * (size_t)matrices + (2u << 20) - 1) / (2u << 20) * (2u << 20);
        uint8_t *memory = aligned_alloc(2u << 20, bytes);
        if (memory == NULL) { fprintf(stderr, "decode_step: no memory for %s\n", t->name); exit(1); }
        madvise(memory, bytes, MADV_HUGEPAGE);
        for (long e = 0; e < matrices; e++) {
            const size_t slab = t->bytes / (size_t)matrices;
            sparrow_repack(pool, (uint32_t)t->type, file + t->offset + (size_t)e * slab, t->dims[1], t->dims[0],
                               memory + (size_t)e * each);
        }
        repacked[i] = memory;
        repacked_each[i] = each;
        total += each * (size_t)matrices;
    }
    fprintf(stderr, "decode_step: %.2f GB repacked\n", (double)total / 1e9);
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: decode_step TENSORS.txt MODEL.gguf THREADS BATCH STEPS\n");
        return 2;
    }
    FILE *list = fopen(argv[1], "r");
    if (list == NULL) { perror(argv[1]); return 2; }
    char line[512];
    while (fgets(line, sizeof line, list) != NULL && tensor_count < 4096) {
        tensor *t = &tensors[tensor_count];
        t->dims[1] = 1;
        t->dims[2] = 0;
        const int fields = sscanf(line, "%95s %d %zu %zu %ld %ld %ld", t->name, &t->type, &t->offset, &t->bytes,
                                  &t->dims[0], &t->dims[1], &t->dims[2]);
        if (fields >= 5) tensor_count++;
    }
    fclose(list);
    const int fd = open(argv[2], O_RDONLY);
    struct stat info;
    if (fd < 0 || fstat(fd, &info) != 0) { perror(argv[2]); return 2; }
    const uint8_t *file = mmap(NULL, (size_t)info.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (file == MAP_FAILED) { perror("mmap"); return 2; }
    const char *in_memory = getenv("DECODE_STEP_MEMORY");
    if (in_memory != NULL && strcmp(in_memory, "1") == 0) {  // as `model.weights: memory`: huge-page memory
        const size_t bytes = ((size_t)info.st_size + (2u << 20) - 1) / (2u << 20) * (2u << 20);
        uint8_t *copy = aligned_alloc(2u << 20, bytes);
        if (copy == NULL) { fprintf(stderr, "decode_step: no memory for the file\n"); return 1; }
        madvise(copy, bytes, MADV_HUGEPAGE);
        memcpy(copy, file, (size_t)info.st_size);
        file = copy;
    }
    // Map every page before timing (as a model that has run a prefill has): with routing drawn at random, a timed
    // step would otherwise take the page-cache mapping faults of experts not seen yet (experts measured 14-17 GB/s
    // that way against 21-22 with the pages mapped).
    volatile uint8_t touched = 0;
    for (size_t at = 0; at < (size_t)info.st_size; at += 4096) touched ^= file[at];
    const int threads = atoi(argv[3]), batch = atoi(argv[4]), steps = atoi(argv[5]);
    if (threads < 1 || batch < 1 || batch > 64 || steps < 1) { fprintf(stderr, "decode_step: bad arguments\n"); return 2; }

    int layers = 0;
    for (int i = 0; i < tensor_count; i++) {
        int layer;
        if (sscanf(tensors[i].name, "blk.%d.", &layer) == 1 && layer + 1 > layers) layers = layer + 1;
    }
    const tensor *output = find("output.weight");
    const long hidden = output->dims[0], vocabulary = output->dims[1];
    const long q_width = layer_tensor(0, "attn_q")->dims[1];
    const tensor *gate0 = layer_tensor(0, "ffn_gate_exps");
    const long experts = gate0->dims[2], expert_width = gate0->dims[1];
    const int top_k = 8;
    int kernel_level = sparrow_detect_cpu_features().avx512 ? SPARROW_LEVEL_AVX512 : SPARROW_LEVEL_AVX2;
    const char *level_setting = getenv("DECODE_STEP_LEVEL");
    if (level_setting != NULL && strcmp(level_setting, "avx2") == 0) {
        kernel_level = SPARROW_LEVEL_AVX2;
    } else if (level_setting != NULL && level_setting[0] != 0 && strcmp(level_setting, "avx512") != 0) {
        fprintf(stderr, "decode_step: DECODE_STEP_LEVEL: expected avx2 or avx512\n");
        return 2;
    }

    sparrow_pool *pool = sparrow_pool_create(threads);
    const char *repack = getenv("DECODE_STEP_REPACK");
    // Variants (DECODE_STEP_X16_MIN), checked before the copies are made.
    long variant_min[16];
    double variant_step[16] = {0}, variant_output[16] = {0};
    int variants = 0, variant_steps[16] = {0};
    const char *x16_list = getenv("DECODE_STEP_X16_MIN");
    while (x16_list != NULL && *x16_list != '\0' && variants < 16) {
        char *end;
        variant_min[variants] = strtol(x16_list, &end, 10);
        if (end == x16_list || variant_min[variants] < 1 || (*end != ',' && *end != '\0')) {
            fprintf(stderr, "decode_step: DECODE_STEP_X16_MIN: expected row counts of at least 1, as 2,3,9\n");
            return 2;
        }
        variants++;
        x16_list = *end == ',' ? end + 1 : end;
    }
    if (x16_list != NULL && *x16_list != '\0') { fprintf(stderr, "decode_step: DECODE_STEP_X16_MIN: at most 16 variants\n"); return 2; }
    if (variants > 0 && (repack == NULL || strcmp(repack, "1") != 0)) {
        fprintf(stderr, "decode_step: DECODE_STEP_X16_MIN needs DECODE_STEP_REPACK=1 (without copies every variant runs the same kernels)\n");
        return 2;
    }
    if (repack != NULL && strcmp(repack, "1") == 0) repack_all(pool, file);
    // Activation rows: fixed values quantized once per width (Q8_K for every K-quant weight).
    const long widths[3] = {hidden, q_width, expert_width};
    uint8_t *activations[3];
    size_t activation_bytes[3];
    float *values = malloc(sizeof(float) * (size_t)(q_width > hidden ? q_width : hidden));
    for (int w = 0; w < 3; w++) {
        activation_bytes[w] = sparrow_activation_row_bytes(SPARROW_ACT_Q8_K, widths[w]);
        activations[w] = malloc(activation_bytes[w] * (size_t)batch);
        for (int b = 0; b < batch; b++) {
            for (long i = 0; i < widths[w]; i++) values[i] = sinf(0.37f * (float)i + (float)b);
            sparrow_quantize_activation(SPARROW_ACT_Q8_K, values, activations[w] + (size_t)b * activation_bytes[w],
                                        widths[w]);
        }
    }
    const long largest_out = vocabulary > 3 * q_width ? vocabulary : 3 * q_width;
    float *out = malloc(sizeof(float) * (size_t)batch * (size_t)largest_out);
    float *expert_out = malloc(sizeof(float) * (size_t)batch * (size_t)top_k * (size_t)(hidden > expert_width ? hidden : expert_width) * 2);
    sparrow_product *products = malloc(sizeof(sparrow_product) * (size_t)(2 * experts + 3));
    int *routed = malloc(sizeof(int) * (size_t)experts);

    double time_attention = 0, time_gate_up = 0, time_down = 0, time_output = 0;
    double bytes_attention = 0, bytes_gate_up = 0, bytes_down = 0, bytes_output = 0, experts_read = 0;
    srand(1);
    const int warm_up = 2;
    for (int step = 0; step < warm_up + steps; step++) {
        const int timed = step >= warm_up;
        const int variant = variants > 0 ? step % variants : 0;
        if (variants > 0) x16_min_rows = variant_min[variant];
        const double step_start = now();
        for (int layer = 0; layer < layers; layer++) {
            const tensor *q = layer_tensor(layer, "attn_q"), *k = layer_tensor(layer, "attn_k"),
                         *v = layer_tensor(layer, "attn_v"), *o = layer_tensor(layer, "attn_output"),
                         *gate = layer_tensor(layer, "ffn_gate_exps"), *up = layer_tensor(layer, "ffn_up_exps"),
                         *down = layer_tensor(layer, "ffn_down_exps");
            const double t0 = now();
            const tensor *qkv[3] = {q, k, v};
            float *y = out;
            for (int i = 0; i < 3; i++) {
                products[i] = (sparrow_product){(uint32_t)qkv[i]->type, kernel_level, file + qkv[i]->offset,
                                                row_bytes(qkv[i]), qkv[i]->dims[1], hidden, activations[0],
                                                activation_bytes[0], batch, y, x16(qkv[i], 0, batch)};
                y += (size_t)batch * (size_t)qkv[i]->dims[1];
            }
            int status = sparrow_matmul_many(pool, products, 3);
            status |= sparrow_matmul(pool, kernel_level, (uint32_t)o->type, file + o->offset, row_bytes(o),
                                     o->dims[1], q_width, activations[1], activation_bytes[1], batch, out, x16(o, 0, batch));
            if (status != 0) { fprintf(stderr, "decode_step: no kernel for a type of layer %d\n", layer); return 1; }
            const double t1 = now();
            for (long e = 0; e < experts; e++) routed[e] = 0;
            for (int b = 0; b < batch; b++) {
                int chosen[64];
                for (int r = 0; r < top_k; r++) {
                    int e, again;
                    do {
                        e = rand() % (int)experts;
                        again = 0;
                        for (int j = 0; j < r; j++) again |= chosen[j] == e;
                    } while (again);
                    chosen[r] = e;
                    routed[e]++;
                }
            }
            int count = 0;
            float *ey = expert_out;
            for (long e = 0; e < experts; e++) {
                if (routed[e] == 0) continue;
                const tensor *pair[2] = {gate, up};
                for (int g = 0; g < 2; g++) {
                    const size_t rb = row_bytes(pair[g]);
                    products[count++] = (sparrow_product){(uint32_t)pair[g]->type, kernel_level,
                                                          file + pair[g]->offset + (size_t)e * rb * (size_t)expert_width,
                                                          rb, expert_width, hidden, activations[0],
                                                          activation_bytes[0], routed[e], ey, x16(pair[g], e, routed[e])};
                    ey += (size_t)routed[e] * (size_t)expert_width;
                    if (timed) bytes_gate_up += (double)rb * (double)expert_width;
                }
                if (timed) experts_read += 1;
            }
            if (sparrow_matmul_many(pool, products, count) != 0) { fprintf(stderr, "decode_step: no kernel\n"); return 1; }
            const double t2 = now();
            count = 0;
            ey = expert_out;
            const size_t down_rb = row_bytes(down);
            for (long e = 0; e < experts; e++) {
                if (routed[e] == 0) continue;
                products[count++] = (sparrow_product){(uint32_t)down->type, kernel_level,
                                                      file + down->offset + (size_t)e * down_rb * (size_t)hidden,
                                                      down_rb, hidden, expert_width, activations[2],
                                                      activation_bytes[2], routed[e], ey, x16(down, e, routed[e])};
                ey += (size_t)routed[e] * (size_t)hidden;
                if (timed) bytes_down += (double)down_rb * (double)hidden;
            }
            if (sparrow_matmul_many(pool, products, count) != 0) { fprintf(stderr, "decode_step: no kernel\n"); return 1; }
            const double t3 = now();
            if (timed) {
                time_attention += t1 - t0;
                time_gate_up += t2 - t1;
                time_down += t3 - t2;
                bytes_attention += (double)(q->bytes + k->bytes + v->bytes + o->bytes);
            }
        }
        const double t0 = now();
        if (sparrow_matmul(pool, kernel_level, (uint32_t)output->type, file + output->offset, row_bytes(output),
                           vocabulary, hidden, activations[0], activation_bytes[0], batch, out, x16(output, 0, batch)) != 0) {
            fprintf(stderr, "decode_step: no kernel for the output matrix\n");
            return 1;
        }
        if (timed && variants > 0) {
            variant_step[variant] += now() - step_start;
            variant_output[variant] += now() - t0;
            variant_steps[variant]++;
        }
        if (timed) {
            time_output += now() - t0;
            bytes_output += (double)output->bytes;
        }
    }
    const double total = time_attention + time_gate_up + time_down + time_output;
    const double bytes = bytes_attention + bytes_gate_up + bytes_down + bytes_output;
    printf("batch %d, %d threads, %d layers, %d steps: %.2f ms per step, %.1f tokens/s, %.1f GB/s; "
           "%.1f experts read per layer\n",
           batch, threads, layers, steps, 1e3 * total / steps, batch * steps / total, bytes / total / 1e9,
           experts_read / ((double)steps * layers));
    printf("  attention q/k/v/o  %7.2f ms  %5.1f GB/s\n", 1e3 * time_attention / steps, bytes_attention / time_attention / 1e9);
    printf("  experts gate+up    %7.2f ms  %5.1f GB/s\n", 1e3 * time_gate_up / steps, bytes_gate_up / time_gate_up / 1e9);
    printf("  experts down       %7.2f ms  %5.1f GB/s\n", 1e3 * time_down / steps, bytes_down / time_down / 1e9);
    printf("  output matrix      %7.2f ms  %5.1f GB/s\n", 1e3 * time_output / steps, bytes_output / time_output / 1e9);
    for (int v = 0; v < variants; v++) {
        if (variant_steps[v] == 0) continue;
        printf("  repacked from %ld rows: %7.2f ms per step, output matrix %.2f ms (%d steps)\n", variant_min[v],
               1e3 * variant_step[v] / variant_steps[v], 1e3 * variant_output[v] / variant_steps[v], variant_steps[v]);
    }
    return 0;
}
