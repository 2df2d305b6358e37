// The 'blas' backend: GEMM and the SGD update through OpenBLAS (or another CBLAS) via koffi. Node only; loaded on demand by select.ts.
import type { Kernels } from '../kernels.js';
import { ArgumentError } from '../../tensor/errors.js';
import { checkGemm } from '../gemm-args.js';
import { type BlasBinding, installHint, loadBlas } from './load.js';
import { tsKernels } from '../ts/index.js';
import { simdFamilies } from '../simd-families.js';

export { candidateLibraries, installHint } from './load.js';

const ROW_MAJOR = 101;
const NO_TRANS = 111;
const TRANS = 112;

/** Threads requested through BNLAB_THREADS (default 1: the lab runs many small GEMMs, and results stay reproducible). */
export function threadsFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.BNLAB_THREADS;
  if (raw === undefined || raw === '') return 1;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new ArgumentError(`BNLAB_THREADS must be a positive integer, got '${raw}'`);
  return n;
}

/**
 * Multi-threaded OpenBLAS pays ~20 us per call to hand half the work to a worker and wait for it, so a GEMM gains
 * from a second thread only past ~3.5M multiply-adds (~50 us on one core), and only when no dimension is below 64:
 * thin products split badly. Measured (OpenBLAS 0.3.21, SkylakeX kernels, 2 cores, best of 31 runs, 2 threads vs 1):
 * slower 60x100x784 1.12x (W1's first layer), 64x10x3136 1.3x (W3's head), 60x200x300 1.1x; faster 64x196x289
 * 0.78x (W3's conv), 128x256x256 0.65x (W2), 1024x256x784 0.55x (W5). W1's dW (100x784x60) was 0.8x alone but
 * W1 as a whole gained nothing from it (0.631 vs 0.618 ms), so k = batch 60 stays on one thread too. Likewise
 * W3's per-sample conv GEMMs (64x196x289, 3.6M) won alone but W3 as a whole ran 40-43 ms on 2 threads against
 * 38-40 ms on one, so the bar sits at 8M: W3 stays on one thread, W2 (8.4M and up) and W5 still split.
 */
export const PARALLEL_MIN_MACS = 8e6;
export const PARALLEL_MIN_DIM = 64;

/** Threads for one C (m x n) += A B with inner dimension k, given the threads the user asked for. */
export function gemmThreads(requested: number, m: number, n: number, k: number): number {
  return requested > 1 && m * n * k >= PARALLEL_MIN_MACS && Math.min(m, n, k) >= PARALLEL_MIN_DIM ? requested : 1;
}

/** Wraps a binding as Kernels. */
function makeKernels(b: BlasBinding): Kernels {
  /** What the user asked for (threads() reports it). */
  let threads = 1;
  /** What the library is set to now; openblas_set_num_threads costs ~0.1 us, and is called only on a change. */
  let active = 1;
  const setThreads = (n: number): void => {
    if (!Number.isInteger(n) || n < 1) throw new ArgumentError(`threads must be a positive integer, got ${n}`);
    b.setThreads?.(n);
    threads = b.getThreads?.() ?? n;
    active = threads;
  };
  // OpenBLAS starts with one thread per core; pin it to what was asked before the first call.
  setThreads(threadsFromEnv());
  const sgemm = b.sgemm;
  const saxpy = b.saxpy;
  const setLibThreads = b.setThreads;
  return {
    name: 'blas',
    description: `${b.flavor} via ${b.library}`,
    gemm(transA, transB, m, n, k, alpha, a, lda, bm, ldb, beta, c, ldc) {
      checkGemm(transA, transB, m, n, k, a, lda, bm, ldb, c, ldc);
      if (m === 0 || n === 0) return;
      if (k === 0) {
        // CBLAS rejects lda = 0 here; the result is just beta * C.
        for (let i = 0; i < m; i++) {
          if (beta === 0) c.fill(0, i * ldc, i * ldc + n);
          else for (let j = 0; j < n; j++) c[i * ldc + j] *= beta;
        }
        return;
      }
      if (setLibThreads) {
        const want = gemmThreads(threads, m, n, k);
        if (want !== active) {
          setLibThreads(want);
          active = want;
        }
      }
      sgemm(ROW_MAJOR, transA ? TRANS : NO_TRANS, transB ? TRANS : NO_TRANS, m, n, k, alpha, a, lda, bm, ldb, beta, c, ldc);
    },
    axpy(n, alpha, x, y) {
      if (!Number.isInteger(n) || n < 0 || x.length < n || y.length < n) {
        throw new ArgumentError(`axpy: n = ${n} must be an integer in [0, ${Math.min(x.length, y.length)}] (the lengths of x and y)`);
      }
      if (saxpy) saxpy(n, alpha, x, 1, y, 1);
      else tsKernels.axpy(n, alpha, x, y);
    },
    setThreads,
    threads: () => threads,
    ...simdFamilies(),
  };
}

let cached: Kernels | { unavailable: string } | undefined;

/** Loads the library once; later calls return the same kernels (or the same reason). */
export function loadBlasKernels(): Kernels | { unavailable: string } {
  if (cached) return cached;
  const b = loadBlas();
  cached = 'unavailable' in b ? { unavailable: `${b.unavailable}. To install: ${installHint()}` } : makeKernels(b);
  return cached;
}

