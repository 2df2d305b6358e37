// The row-normalization family (LayerNorm, GroupNorm): statistics per contiguous row, per-segment affine, closed-form backward, in plain loops.
import type { BatchNormKernels, RowNormKernels } from './families.js';
import { batchnormLoops } from './batchnorm.js';

const mu1 = new Float64Array(1);
const var1 = new Float64Array(1);

/**
 * The row-normalization loops, with a row's statistics from the given BatchNorm family (a row is the one channel
 * of sample r in a (rows, 1, M) view, so its statistics kernel applies as is, SIMD or loop: the same bits).
 */
export function rowNormKernels(bn: BatchNormKernels): RowNormKernels {
  return {
    forward(x, y, geom, affine, saved) {
      const { rows, segs, segLen, period } = geom;
      const { gamma, beta, eps } = affine;
      const M = segs * segLen;
      for (let r = 0; r < rows; r++) {
        // A row is the one channel of sample r in a (rows, 1, M) view, so the BatchNorm statistics kernel applies as is.
        bn.stats(x, { C: 1, S: M, n0: r, n1: r + 1 }, mu1, var1);
        const mu = mu1[0];
        const is = 1 / Math.sqrt(var1[0] + eps);
        saved.mean[r] = mu;
        saved.invstd[r] = is;
        const a0 = (r % period) * segs;
        for (let p = 0; p < segs; p++) {
          const sc = (gamma ? gamma[a0 + p] : 1) * is;
          const sh = (beta ? beta[a0 + p] : 0) - mu * sc;
          const base = r * M + p * segLen;
          for (let i = base; i < base + segLen; i++) y[i] = x[i] * sc + sh;
        }
      }
    },
    backward(x, dy, geom, gamma, saved, out) {
      const { rows, segs, segLen, period } = geom;
      const { mean, invstd } = saved;
      const { dx, dgamma, dbeta } = out;
      const M = segs * segLen;
      for (let r = 0; r < rows; r++) {
        const mu = mean[r];
        const is = invstd[r];
        const a0 = (r % period) * segs;
        let sg = 0;
        let sgx = 0;
        for (let p = 0; p < segs; p++) {
          const gm = gamma ? gamma[a0 + p] : 1;
          const base = r * M + p * segLen;
          let sdy = 0;
          let sdyx = 0;
          for (let i = base; i < base + segLen; i++) {
            sdy += dy[i];
            sdyx += dy[i] * (x[i] - mu);
          }
          if (dbeta) dbeta[a0 + p] += sdy;
          if (dgamma) dgamma[a0 + p] += sdyx * is;
          sg += gm * sdy;
          sgx += gm * sdyx * is;
        }
        if (!dx) continue;
        // dx = is * g - is/M * sum(g) - is/M * x_hat * sum(g x_hat), with x_hat = (x - mu) * is.
        const k1 = (is * sg) / M;
        const k2 = (is * is * sgx) / M;
        for (let p = 0; p < segs; p++) {
          const a = (gamma ? gamma[a0 + p] : 1) * is;
          const base = r * M + p * segLen;
          for (let i = base; i < base + segLen; i++) dx[i] += a * dy[i] - k1 - k2 * (x[i] - mu);
        }
      }
    },
  };
}

/** The row-normalization loops with the BatchNorm loops' statistics (any runtime). */
export const rownormLoops: RowNormKernels = rowNormKernels(batchnormLoops);
