// The reductions family: the bias gradients' sums (Linear's column sums, Conv2d's plane sums), as plain loops and on WebAssembly SIMD.
import type { ReductionKernels } from './families.js';
import { createReductionSimd } from './simd/reductions.js';

/** The plain loops (any runtime). */
export const reductionLoops: ReductionKernels = {
  // Row by row into float64 sums, so memory is read in order (a column walk strides through it); each column is
  // still summed in row order.
  columnSums(x, rows, C, sums) {
    sums.fill(0, 0, C);
    for (let i = 0; i < rows; i++) {
      const row = i * C;
      for (let j = 0; j < C; j++) sums[j] += x[row + j];
    }
  },
  planeSums(g, { N, C, plane }, s) {
    for (let b = 0; b < N; b++) {
      for (let c = 0; c < C; c++) {
        const o = (b * C + c) * plane;
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        let i = 0;
        for (; i + 3 < plane; i += 4) {
          s0 += g[o + i];
          s1 += g[o + i + 1];
          s2 += g[o + i + 2];
          s3 += g[o + i + 3];
        }
        for (; i < plane; i++) s0 += g[o + i];
        s[c] += s0 + s1 + s2 + s3;
      }
    }
  },
};

let simd: ReductionKernels | null | undefined;

/**
 * The reductions on WebAssembly SIMD (four columns or one plane's four accumulators per step, the loops' order, so
 * the same sums), or null where they cannot load; shapes the kernels do not take (C or plane not a multiple of 4)
 * run the loops.
 */
export function reductionSimd(): ReductionKernels | null {
  if (simd !== undefined) return simd;
  const raw = createReductionSimd();
  const L = reductionLoops;
  simd =
    raw === null
      ? null
      : {
          columnSums: (x, rows, C, sums) => raw.columnSums(x, rows, C, sums) || L.columnSums(x, rows, C, sums),
          planeSums: (g, geom, s) => raw.planeSums(g, geom.N, geom.C, geom.plane, s) || L.planeSums(g, geom, s),
        };
  return simd;
}
