// LayerNorm and GroupNorm as differentiable ops (PyTorch semantics), for comparison with BatchNorm in the lab.
import { record } from '../../autograd/record.js';
import { kernels } from '../../kernels/select.js';
import type { RowGeom } from '../../kernels/kernels.js';
import { Tensor, numel } from '../../tensor/tensor.js';
import { ArgumentError, ShapeError, fmtShape } from '../../tensor/errors.js';
import { expectTensor } from '../util.js';

function checkEps(op: string, eps: number): void {
  if (typeof eps !== 'number' || !(eps >= 0) || !Number.isFinite(eps)) {
    throw new ArgumentError(`${op}: eps must be a finite number >= 0, got ${String(eps)}`);
  }
}

function checkAffine(op: string, name: string, t: Tensor | null, shape: readonly number[]): void {
  if (t === null) return;
  expectTensor(op, name, t);
  if (t.ndim !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new ShapeError(`${op}: ${name} must have shape ${fmtShape(shape)}, got ${fmtShape(t.shape)}`);
  }
}

/** Shared op body: forward over rows, closed-form backward into x, weight and bias. */
function rowNorm(op: string, x: Tensor, geom: RowGeom, weight: Tensor | null, bias: Tensor | null, eps: number): Tensor {
  const y = new Float32Array(x.size);
  const mean = new Float64Array(geom.rows);
  const invstd = new Float64Array(geom.rows);
  const k = kernels().rownorm;
  k.forward(x.data, y, geom, { gamma: weight?.data ?? null, beta: bias?.data ?? null, eps }, { mean, invstd });
  return record(new Tensor(y, x.shape), op, [x, weight, bias], (dy) => {
    k.backward(x.data, dy, geom, weight?.data ?? null, { mean, invstd }, {
      dx: x.requiresGrad ? x.gradBuffer() : null,
      dgamma: weight !== null && weight.requiresGrad ? weight.gradBuffer() : null,
      dbeta: bias !== null && bias.requiresGrad ? bias.gradBuffer() : null,
    });
  });
}

/**
 * Layer normalization, as torch.nn.functional.layer_norm: statistics over the last D dimensions
 * (normalizedShape, D = its length) of each sample, biased variance:
 *   y = (x - mean) / sqrt(var + eps) * weight + bias, weight and bias of shape normalizedShape (or null).
 * Default eps 1e-5. Independent of the batch: train and eval behave the same.
 */
export function layerNorm(
  x: Tensor, normalizedShape: readonly number[], weight: Tensor | null = null, bias: Tensor | null = null, eps = 1e-5,
): Tensor {
  const op = 'layerNorm';
  expectTensor(op, 'x', x);
  checkEps(op, eps);
  const D = normalizedShape.length;
  if (D === 0 || x.ndim < D || normalizedShape.some((d, i) => d !== x.shape[x.ndim - D + i])) {
    throw new ShapeError(`${op}: input of shape ${fmtShape(x.shape)} does not end with normalized shape ${fmtShape(normalizedShape)}`);
  }
  checkAffine(op, 'weight', weight, normalizedShape);
  checkAffine(op, 'bias', bias, normalizedShape);
  const M = numel(normalizedShape);
  return rowNorm(op, x, { rows: M === 0 ? 0 : x.size / M, segs: M, segLen: 1, period: 1 }, weight, bias, eps);
}

/**
 * Group normalization (Wu & He 2018), as torch.nn.functional.group_norm: x (N, C, ...) with C divisible by
 * numGroups; statistics per sample over each group of C/numGroups channels and all positions (biased variance):
 *   y = (x - mean_group) / sqrt(var_group + eps) * weight[c] + bias[c], weight and bias [C] (or null).
 * Default eps 1e-5. numGroups = 1 is LayerNorm over (C, ...) with per-channel affine; numGroups = C is InstanceNorm.
 */
export function groupNorm(x: Tensor, numGroups: number, weight: Tensor | null = null, bias: Tensor | null = null, eps = 1e-5): Tensor {
  const op = 'groupNorm';
  expectTensor(op, 'x', x);
  checkEps(op, eps);
  if (x.ndim < 2) throw new ShapeError(`${op}: expected input of shape (N, C, ...), got ${fmtShape(x.shape)}`);
  const C = x.shape[1];
  if (!Number.isInteger(numGroups) || numGroups < 1 || C % numGroups !== 0) {
    throw new ArgumentError(`${op}: the ${C} channels of input ${fmtShape(x.shape)} cannot be split into ${String(numGroups)} groups`);
  }
  checkAffine(op, 'weight', weight, [C]);
  checkAffine(op, 'bias', bias, [C]);
  let S = 1;
  for (let i = 2; i < x.ndim; i++) S *= x.shape[i];
  return rowNorm(op, x, { rows: x.shape[0] * numGroups, segs: C / numGroups, segLen: S, period: numGroups }, weight, bias, eps);
}
