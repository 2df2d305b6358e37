// Row normalization kernels for LayerNorm and GroupNorm: statistics per contiguous row, per-segment affine, closed-form backward.
import { bnStats } from './batchnorm.js';

/**
 * A row of `segs * segLen` contiguous values normalized together; segment p of row r is scaled by
 * gamma[(r % period) * segs + p]. LayerNorm: segLen 1, segs = row length, period 1 (one gamma per position).
 * GroupNorm: a row is one (sample, group), segs = channels per group, segLen = H*W, period = groups.
 */
export interface RowGeom {
  rows: number;
  segs: number;
  segLen: number;
  period: number;
}

/**
 * Per row: mean, invstd = 1/sqrt(var + eps) (biased variance, float64), then
 * y = (x - mean) * invstd * gamma + beta per segment (gamma = 1, beta = 0 when null). Saves mean and invstd per row.
 */
export function rowNormForward(
  x: Float32Array,
  y: Float32Array,
  geom: RowGeom,
  affine: { gamma: Float32Array | null; beta: Float32Array | null; eps: number },
  mean: Float64Array,
  invstd: Float64Array,
): void {
  const { rows, segs, segLen, period } = geom;
  const { gamma, beta, eps } = affine;
  const M = segs * segLen;
  const mu1 = new Float64Array(1);
  const var1 = new Float64Array(1);
  for (let r = 0; r < rows; r++) {
    // A row is the one channel of sample r in a (rows, 1, M) view, so the BatchNorm statistics kernel applies as is.
    bnStats(x, 1, M, r, r + 1, mu1, var1);
    const mu = mu1[0];
    const is = 1 / Math.sqrt(var1[0] + eps);
    mean[r] = mu;
    invstd[r] = is;
    const a0 = (r % period) * segs;
    for (let p = 0; p < segs; p++) {
      const sc = (gamma ? gamma[a0 + p] : 1) * is;
      const sh = (beta ? beta[a0 + p] : 0) - mu * sc;
      const base = r * M + p * segLen;
      for (let i = base; i < base + segLen; i++) y[i] = x[i] * sc + sh;
    }
  }
}

/**
 * Backward per row with g = dy * gamma (per segment), x_hat = (x - mean) invstd, M values per row:
 * dx = invstd / M * (M g - sum(g) - x_hat sum(g x_hat)); dgamma[seg] += sum(dy x_hat); dbeta[seg] += sum(dy).
 * Outputs that are null are skipped; all are accumulated.
 */
export function rowNormBackward(
  x: Float32Array,
  dy: Float32Array,
  geom: RowGeom,
  gamma: Float32Array | null,
  saved: { mean: Float64Array; invstd: Float64Array },
  out: { dx: Float32Array | null; dgamma: Float32Array | null; dbeta: Float32Array | null },
): void {
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
}
