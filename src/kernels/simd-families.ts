// The kernel families on WebAssembly SIMD where they load, else their loops: what the backends with SIMD (blas, wasm) provide.
import type { Kernels } from './kernels.js';
import { activationLoops, activationSimd } from './activation.js';
import { batchnormLoops, batchnormSimd } from './batchnorm.js';
import { poolingLoops, poolingSimd } from './pooling.js';
import { reductionLoops, reductionSimd } from './reductions.js';
import { rowNormKernels } from './rownorm.js';
import { axpyLoop, axpySimd } from './update.js';

/** The families of Kernels, each on WebAssembly SIMD where its module loads (see families.ts), else its loops. */
export function simdFamilies(): Pick<Kernels, 'activation' | 'batchnorm' | 'pooling' | 'reductions' | 'rownorm'> {
  const batchnorm = batchnormSimd() ?? batchnormLoops;
  return {
    activation: activationSimd() ?? activationLoops,
    batchnorm,
    pooling: poolingSimd() ?? poolingLoops,
    reductions: reductionSimd() ?? reductionLoops,
    rownorm: rowNormKernels(batchnorm),
  };
}

/** Kernels.axpy on WebAssembly SIMD where it loads (bit-identical to the loop), else the loop. */
export function simdAxpy(): Kernels['axpy'] {
  return axpySimd() ?? axpyLoop;
}
