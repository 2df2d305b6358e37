// The Kernels interface: the numeric routines a backend must provide; ops call these, never a backend directly.

import type { ActivationKernels, BatchNormKernels, PoolingKernels, ReductionKernels, RowNormKernels } from './families.js';

export type * from './families.js';

/**
 * Names of the backends: `ts` plain loops that run anywhere, `wasm` WebAssembly SIMD (Node and browsers), `blas` OpenBLAS
 * (or another CBLAS) through koffi in Node.
 */
export type BackendName = 'ts' | 'wasm' | 'blas';

/**
 * What a backend provides: GEMM and the optimizer update, and the kernel families ops call (each family owns its
 * dispatch between WebAssembly SIMD and plain loops: see families.ts).
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
  /** relu, sigmoid, tanh and their gradients. */
  readonly activation: ActivationKernels;
  /** BatchNorm's statistics, affine map (with a fused activation) and backward. */
  readonly batchnorm: BatchNormKernels;
  /** relu fused with 2x2 max pooling. */
  readonly pooling: PoolingKernels;
  /** The bias gradients' column and plane sums. */
  readonly reductions: ReductionKernels;
  /** LayerNorm's and GroupNorm's row normalization. */
  readonly rownorm: RowNormKernels;
  /** Sets the number of threads the backend may use (no-op for single-threaded backends). */
  setThreads(n: number): void;
  /** Threads in use. */
  threads(): number;
}
