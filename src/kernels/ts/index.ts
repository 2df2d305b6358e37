// The pure TypeScript backend: plain loops that run anywhere (Node, browsers), single-threaded.
import type { Kernels } from '../kernels.js';
import { gemmTs } from './gemm.js';
import { activationLoops } from '../activation.js';
import { batchnormLoops } from '../batchnorm.js';
import { poolingLoops } from '../pooling.js';
import { reductionLoops } from '../reductions.js';
import { rownormLoops } from '../rownorm.js';
import { axpyLoop } from '../update.js';

/** The portable backend. */
export const tsKernels: Kernels = {
  name: 'ts',
  description: 'pure TypeScript kernels (single thread)',
  gemm: gemmTs,
  // float64 product and sum, one rounding (update.ts). Loops only, here and below: this backend stands for a
  // runtime without WebAssembly SIMD.
  axpy: axpyLoop,
  activation: activationLoops,
  batchnorm: batchnormLoops,
  pooling: poolingLoops,
  reductions: reductionLoops,
  rownorm: rownormLoops,
  setThreads: () => {},
  threads: () => 1,
};
