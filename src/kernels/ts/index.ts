// The pure TypeScript backend: runs anywhere (Node, browsers), single-threaded.
import type { Kernels } from '../kernels.js';
import { gemmTs } from './gemm.js';

/** The portable backend. */
export const tsKernels: Kernels = {
  name: 'ts',
  description: 'pure TypeScript kernels (single thread)',
  gemm: gemmTs,
  setThreads: () => {},
  threads: () => 1,
};
