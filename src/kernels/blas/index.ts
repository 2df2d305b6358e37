// The 'blas' backend: GEMM through OpenBLAS (or another CBLAS) via koffi; registers its loader. Node only.
import type { Kernels } from '../kernels.js';
import { registerBackend } from '../select.js';
import { ArgumentError } from '../../tensor/errors.js';
import { type BlasBinding, installHint, loadBlas } from './load.js';

export { candidateLibraries, installHint } from './load.js';

const ROW_MAJOR = 101;
const NO_TRANS = 111;
const TRANS = 112;

/**
 * Throws unless a stored rows x cols matrix with row stride ld fits in `arr`. Native code would read
 * or write past the end where the TypeScript kernels would only produce NaN, so BLAS calls check first.
 */
function checkFits(what: string, arr: Float32Array, rows: number, cols: number, ld: number): void {
  if (!Number.isInteger(ld) || ld < Math.max(1, cols)) {
    throw new ArgumentError(`gemm: ${what} row stride ${ld} must be an integer >= ${Math.max(1, cols)}`);
  }
  const need = (rows - 1) * ld + cols;
  if (arr.length < need) {
    throw new ArgumentError(`gemm: ${what} holds ${arr.length} floats, needs ${need} (${rows}x${cols}, stride ${ld})`);
  }
}

/** Threads requested through BNLAB_THREADS (default 1: the lab runs many small GEMMs, and results stay reproducible). */
export function threadsFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.BNLAB_THREADS;
  if (raw === undefined || raw === '') return 1;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new ArgumentError(`BNLAB_THREADS must be a positive integer, got '${raw}'`);
  return n;
}

/** Wraps a binding as Kernels. */
function makeKernels(b: BlasBinding): Kernels {
  let threads = 1;
  const setThreads = (n: number): void => {
    if (!Number.isInteger(n) || n < 1) throw new ArgumentError(`threads must be a positive integer, got ${n}`);
    b.setThreads?.(n);
    threads = b.getThreads?.() ?? n;
  };
  // OpenBLAS starts with one thread per core; pin it to what was asked before the first call.
  setThreads(threadsFromEnv());
  const sgemm = b.sgemm;
  return {
    name: 'blas',
    description: `${b.flavor} via ${b.library}`,
    gemm(transA, transB, m, n, k, alpha, a, lda, bm, ldb, beta, c, ldc) {
      if (m === 0 || n === 0) return;
      checkFits('C', c, m, n, ldc);
      if (k === 0) {
        // CBLAS rejects lda = 0 here; the result is just beta * C.
        for (let i = 0; i < m; i++) {
          if (beta === 0) c.fill(0, i * ldc, i * ldc + n);
          else for (let j = 0; j < n; j++) c[i * ldc + j] *= beta;
        }
        return;
      }
      checkFits('A', a, transA ? k : m, transA ? m : k, lda);
      checkFits('B', bm, transB ? n : k, transB ? k : n, ldb);
      sgemm(ROW_MAJOR, transA ? TRANS : NO_TRANS, transB ? TRANS : NO_TRANS, m, n, k, alpha, a, lda, bm, ldb, beta, c, ldc);
    },
    setThreads,
    threads: () => threads,
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

registerBackend('blas', loadBlasKernels);
