// The pure TypeScript backend: runs anywhere (Node, browsers), single-threaded.
import type { Kernels } from '../kernels.js';
import { gemmTs } from './gemm.js';
import { sgdUpdate } from './simd.js';

/** The portable backend. */
export const tsKernels: Kernels = {
  name: 'ts',
  description: 'pure TypeScript kernels (single thread)',
  gemm: gemmTs,
  // y -= (-alpha) x: float64 lanes, one rounding (simd.ts).
  axpy: (n, alpha, x, y) => sgdUpdate(y.subarray(0, n), x, -alpha),
  setThreads: () => {},
  threads: () => 1,
};
