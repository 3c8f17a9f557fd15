/* sgemm_dnnl.c: a BLAS `sgemm_` that runs on oneDNN's dnnl_sgemm.
 *
 * Debian's PyTorch 1.13 is built against the generic BLAS interface, and the
 * only BLAS installed here is netlib's reference implementation (~5 GFLOPS,
 * single-threaded).  Preloading this library (LD_PRELOAD) routes every float
 * GEMM of PyTorch (Linear, matmul, bmm) to oneDNN's optimised, OpenMP-parallel
 * sgemm -- the libdnnl.so.2 PyTorch already links.  See fastblas.py.
 *
 * BLAS is column-major, dnnl_sgemm row-major: a column-major matrix is the
 * row-major transpose with the same leading dimension, so
 *   C = alpha op(A) op(B) + beta C          (column-major, m x n)
 * is
 *   C^T = alpha op(B)^T op(A)^T + beta C^T  (row-major, n x m),
 * i.e. dnnl_sgemm(transb, transa, n, m, k, alpha, B, ldb, A, lda, beta, C, ldc).
 * Anything oneDNN rejects falls back to the next sgemm_ (netlib's).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>

typedef int dnnl_status_t;
extern dnnl_status_t dnnl_sgemm(char transa, char transb, int64_t M, int64_t N, int64_t K, float alpha,
                                const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
                                float *C, int64_t ldc);

typedef void (*sgemm_fn)(const char *, const char *, const int *, const int *, const int *, const float *,
                         const float *, const int *, const float *, const int *, const float *, float *,
                         const int *);

static int transposed(char t) { return t == 'T' || t == 't' || t == 'C' || t == 'c'; }

void sgemm_(const char *transa, const char *transb, const int *m, const int *n, const int *k,
            const float *alpha, const float *a, const int *lda, const float *b, const int *ldb,
            const float *beta, float *c, const int *ldc) {
  if (*m > 0 && *n > 0 && *k > 0) {
    char ta = transposed(*transa) ? 'T' : 'N';
    char tb = transposed(*transb) ? 'T' : 'N';
    if (dnnl_sgemm(tb, ta, *n, *m, *k, *alpha, b, *ldb, a, *lda, *beta, c, *ldc) == 0)
      return;
  }
  static sgemm_fn next = 0;
  if (!next)
    next = (sgemm_fn)dlsym(RTLD_NEXT, "sgemm_");
  next(transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
