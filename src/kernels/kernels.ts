// The Kernels interface: the numeric routines a backend must provide; ops call these, never a backend directly.

/** Names of the backends; `ts` runs anywhere, `blas` calls OpenBLAS (or another CBLAS) through koffi in Node. */
export type BackendName = 'ts' | 'blas';

/**
 * What a backend provides. Only the routines whose speed depends on the backend live here;
 * elementwise and normalization kernels are plain TypeScript shared by all backends (src/kernels/ts).
 */
export interface Kernels {
  readonly name: BackendName;
  /** Human-readable description, e.g. which library was loaded. */
  readonly description: string;
  /**
   * Row-major GEMM, the cblas_sgemm contract (positional like CBLAS so that a BLAS drops in unchanged):
   * C[m,n] = alpha * op(A)[m,k] * op(B)[k,n] + beta * C, where op(X) = X^T when trans is true.
   * lda/ldb/ldc are row strides of the stored matrices. Offsets are expressed with subarray().
   * beta = 0 overwrites C (its old contents, even NaN, are ignored).
   */
  gemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: Float32Array,
    lda: number,
    b: Float32Array,
    ldb: number,
    beta: number,
    c: Float32Array,
    ldc: number,
  ): void;
  /**
   * y += alpha * x over n values, the optimizers' update (p -= lr * g is axpy(n, -lr, g, p)). The BLAS backend
   * runs cblas_saxpy (float32, ~5x faster than the TypeScript kernel: W2's SGD step 0.24 -> 0.05 ms); the
   * TypeScript backend computes in float64 and rounds once. Both are within one float32 rounding of the exact value.
   */
  axpy(n: number, alpha: number, x: Float32Array, y: Float32Array): void;
  /** Sets the number of threads the backend may use (no-op for single-threaded backends). */
  setThreads(n: number): void;
  /** Threads in use. */
  threads(): number;
}
