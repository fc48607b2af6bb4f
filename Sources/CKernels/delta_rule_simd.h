// The SIMD bodies of delta_rule.c, written once and included once per instruction set with these macros defined:
//   DR_NAME(x)   the function name with the set's suffix
//   DR_TARGET    the target attribute
//   DR_V, DR_W   the vector type and its width in floats
//   DR_LOAD(p), DR_STORE(p, v), DR_SET1(x), DR_ZERO(), DR_MUL(a, b)
//   DR_FMA(a, b, c)   a·b + c, rounded once
// Every output element is a chain of fused multiply-adds over k in increasing order, the very chain the scalar
// reference in delta_rule.c computes with fmaf: vector width and tiling decide only which elements are computed
// together, never how one is computed, so every level gives the reference's bits.

/// `rows` rows (1…DR_ROWS) of C at columns [col, col + DR_COLS·DR_W): C[i] = (load ? C[i] : 0) + Σ_{k ∈ [k0, k1)}
/// A[i, k]·B[k]. Vectors per row fixed at DR_COLS so the accumulators stay in registers.
static inline DR_TARGET void DR_NAME(dr_tile)(int64_t rows, int64_t k0, int64_t k1, const float *a, int64_t ars,
                                               int64_t acs, const float *b, int64_t ldb, float *c, int64_t ldc,
                                               int load) {
    DR_V acc[DR_ROWS][DR_COLS];
    for (int64_t r = 0; r < DR_ROWS; r++) {
        for (int v = 0; v < DR_COLS; v++) {
            acc[r][v] = (load && r < rows) ? DR_LOAD(c + r * ldc + v * DR_W) : DR_ZERO();
        }
    }
    if (rows == DR_ROWS) {
        for (int64_t k = k0; k < k1; k++) {
            const float *bk = b + k * ldb;
            DR_V bv[DR_COLS];
            for (int v = 0; v < DR_COLS; v++) bv[v] = DR_LOAD(bk + v * DR_W);
            for (int r = 0; r < DR_ROWS; r++) {
                const DR_V av = DR_SET1(a[r * ars + k * acs]);
                for (int v = 0; v < DR_COLS; v++) acc[r][v] = DR_FMA(av, bv[v], acc[r][v]);
            }
        }
    } else {
        for (int64_t k = k0; k < k1; k++) {
            const float *bk = b + k * ldb;
            for (int64_t r = 0; r < rows; r++) {
                const DR_V av = DR_SET1(a[r * ars + k * acs]);
                for (int v = 0; v < DR_COLS; v++) acc[r][v] = DR_FMA(av, DR_LOAD(bk + v * DR_W), acc[r][v]);
            }
        }
    }
    for (int64_t r = 0; r < rows; r++) {
        for (int v = 0; v < DR_COLS; v++) DR_STORE(c + r * ldc + v * DR_W, acc[r][v]);
    }
}

/// Like `dr_tile` with one vector per row: `rows` rows (1…DR_ROWS) of C at columns [col, col + DR_W).
static inline DR_TARGET void DR_NAME(dr_tile1)(int64_t rows, int64_t k0, int64_t k1, const float *a, int64_t ars,
                                                int64_t acs, const float *b, int64_t ldb, float *c, int64_t ldc,
                                                int load) {
    DR_V acc[DR_ROWS];
    for (int64_t r = 0; r < DR_ROWS; r++) acc[r] = (load && r < rows) ? DR_LOAD(c + r * ldc) : DR_ZERO();
    for (int64_t k = k0; k < k1; k++) {
        const DR_V bv = DR_LOAD(b + k * ldb);
        for (int64_t r = 0; r < rows; r++) acc[r] = DR_FMA(DR_SET1(a[r * ars + k * acs]), bv, acc[r]);
    }
    for (int64_t r = 0; r < rows; r++) DR_STORE(c + r * ldc, acc[r]);
}

/// One row, columns [col0, col1) one float at a time (the ragged right edge).
static inline void DR_NAME(dr_edge)(int64_t k0, int64_t k1, const float *a, int64_t acs, const float *b,
                                    int64_t ldb, float *c, int64_t col0, int64_t col1, int load) {
    for (int64_t col = col0; col < col1; col++) {
        float acc = load ? c[col] : 0.0f;
        for (int64_t k = k0; k < k1; k++) acc = fmaf(a[k * acs], b[k * ldb + col], acc);
        c[col] = acc;
    }
}

/// The level's `dr_gemm` (see delta_rule.c for the contract). A product whose rows need only their first columns
/// (`cols` ≥ 0) still runs whole tiles up to the tile edge past the last column needed: extra columns are harmless
/// (the caller ignores them) and cheaper than narrow tiles.
static DR_TARGET void DR_NAME(dr_gemm)(const dr_gemm_args *g) {
    const int64_t span = DR_COLS * DR_W;
    for (int64_t i0 = 0; i0 < g->m; i0 += DR_ROWS) {
        const int64_t rows = g->m - i0 < DR_ROWS ? g->m - i0 : DR_ROWS;
        const int64_t kfirst = dr_kend(g, i0);
        int64_t n = dr_ncols(g, i0 + rows - 1);
        if (g->cols >= 0) {
            const int64_t rounded = (n + DR_W - 1) / DR_W * DR_W;
            n = rounded < g->n ? rounded : g->n;
        }
        const float *a = g->a + i0 * g->ars;
        float *c = g->c + i0 * g->ldc;
        int64_t col = 0;
        for (; col + DR_W <= n; col += (col + span <= n ? span : DR_W)) {
            const int whole = col + span <= n;
            if (whole) {
                DR_NAME(dr_tile)(rows, 0, kfirst, a, g->ars, g->acs, g->b + col, g->ldb, c + col, g->ldc, g->load);
            } else {
                DR_NAME(dr_tile1)(rows, 0, kfirst, a, g->ars, g->acs, g->b + col, g->ldb, c + col, g->ldc, g->load);
            }
            // Later rows of a triangular product continue their own chains past the first row's end.
            for (int64_t r = 1; r < rows; r++) {
                const int64_t kend = dr_kend(g, i0 + r);
                if (kend <= kfirst) continue;
                if (whole) {
                    DR_NAME(dr_tile)(1, kfirst, kend, a + r * g->ars, g->ars, g->acs, g->b + col, g->ldb,
                                     c + r * g->ldc + col, g->ldc, 1);
                } else {
                    DR_NAME(dr_tile1)(1, kfirst, kend, a + r * g->ars, g->ars, g->acs, g->b + col, g->ldb,
                                      c + r * g->ldc + col, g->ldc, 1);
                }
            }
        }
        if (col < n) {
            for (int64_t r = 0; r < rows; r++) {
                DR_NAME(dr_edge)(0, dr_kend(g, i0 + r), a + r * g->ars, g->acs, g->b, g->ldb, c + r * g->ldc, col, n,
                                 g->load);
            }
        }
    }
}

/// The level's `dr_step` (see delta_rule.c): columns in blocks of DR_STEP_COLS·DR_W, each block's m, δ and o kept in
/// registers across the rows of S.
static DR_TARGET void DR_NAME(dr_step)(int64_t dk, int64_t dv, const float *q, const float *k, const float *v,
                                        float beta, float decay, float *s, float *out) {
    const int64_t span = DR_STEP_COLS * DR_W;
    int64_t col = 0;
    const DR_V dvec = DR_SET1(decay);
    for (; col + span <= dv; col += span) {
        DR_V m[DR_STEP_COLS], d[DR_STEP_COLS], o[DR_STEP_COLS];
        for (int x = 0; x < DR_STEP_COLS; x++) m[x] = DR_ZERO();
        for (int64_t i = 0; i < dk; i++) {
            const DR_V ki = DR_SET1(k[i]);
            const float *row = s + i * dv + col;
            for (int x = 0; x < DR_STEP_COLS; x++) m[x] = DR_FMA(DR_MUL(DR_LOAD(row + x * DR_W), dvec), ki, m[x]);
        }
        const DR_V bv = DR_SET1(beta);
        for (int x = 0; x < DR_STEP_COLS; x++) {
            d[x] = DR_MUL(bv, DR_SUB(DR_LOAD(v + col + x * DR_W), m[x]));
            o[x] = DR_ZERO();
        }
        for (int64_t i = 0; i < dk; i++) {
            const DR_V ki = DR_SET1(k[i]), qi = DR_SET1(q[i]);
            float *row = s + i * dv + col;
            for (int x = 0; x < DR_STEP_COLS; x++) {
                const DR_V updated = DR_FMA(ki, d[x], DR_MUL(DR_LOAD(row + x * DR_W), dvec));
                DR_STORE(row + x * DR_W, updated);
                o[x] = DR_FMA(updated, qi, o[x]);
            }
        }
        for (int x = 0; x < DR_STEP_COLS; x++) DR_STORE(out + col + x * DR_W, o[x]);
    }
    if (col < dv) dr_step_columns(dk, dv, col, dv, q, k, v, beta, decay, s, out);
}
