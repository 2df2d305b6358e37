// BatchNorm written with primitive ops (mean, sub, mul, div, sqrt): the test oracle for the fused kernels.
import { add, div, mul, sqrt, sub } from '../elementwise.js';
import { mean } from '../reduce.js';
import { reshape } from '../shape.js';
import { Tensor } from '../../tensor/tensor.js';

/** Batch Renorm inputs of the oracle: running statistics (before the update) and the clipping limits. */
export interface RenormReference {
  runningMean: Float32Array;
  runningVar: Float32Array;
  rMax: number;
  dMax: number;
}

/**
 * Training-mode BatchNorm from primitive ops, autograd doing the backward: over (N, C, S),
 * mu = mean(x, [0, 2]), var = mean((x - mu)^2, [0, 2]), x_hat = (x - mu) / sqrt(var + eps) (times r, plus d for
 * Batch Renorm, r and d plain constants), y = weight x_hat + bias. Slow and allocation-heavy on purpose: every
 * step is a separate op, so it shares no code with the fused kernel it checks.
 */
export function batchNormPrimitive(x: Tensor, weight: Tensor | null, bias: Tensor | null, eps: number, renorm?: RenormReference): Tensor {
  const N = x.shape[0];
  const C = x.shape[1];
  const S = x.size / Math.max(1, N * C);
  const x3 = reshape(x, [N, C, S]);
  const mu = mean(x3, [0, 2], { keepDims: true });
  const xc = sub(x3, mu);
  const v = mean(mul(xc, xc), [0, 2], { keepDims: true });
  let xh = div(xc, sqrt(add(v, eps)));
  if (renorm) {
    const r = new Float32Array(C);
    const d = new Float32Array(C);
    for (let c = 0; c < C; c++) {
      const sigma = Math.sqrt(renorm.runningVar[c] + eps);
      r[c] = Math.min(renorm.rMax, Math.max(1 / renorm.rMax, Math.sqrt(v.data[c] + eps) / sigma));
      d[c] = Math.min(renorm.dMax, Math.max(-renorm.dMax, (mu.data[c] - renorm.runningMean[c]) / sigma));
    }
    // New leaves without requiresGrad: no gradient flows through r and d.
    xh = add(mul(xh, new Tensor(r, [1, C, 1])), new Tensor(d, [1, C, 1]));
  }
  let y = xh;
  if (weight) y = mul(y, reshape(weight, [1, C, 1]));
  if (bias) y = add(y, reshape(bias, [1, C, 1]));
  return reshape(y, x.shape);
}
