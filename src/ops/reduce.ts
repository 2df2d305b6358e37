// Reductions over axes: sum and mean (accumulated in float64), with keepDims.
import { record } from '../autograd/record.js';
import { Tensor, numel } from '../tensor/tensor.js';
import { ArgumentError } from '../tensor/errors.js';
import { broadcastIndex, expectTensor, normAxis } from './util.js';

export interface ReduceOptions {
  /** Keep reduced dimensions with size 1 (default false). */
  keepDims?: boolean;
}

function reduceShape(op: string, shape: readonly number[], dims: number | number[] | undefined, keepDims: boolean) {
  const rank = shape.length;
  const list = dims === undefined ? shape.map((_, i) => i) : (Array.isArray(dims) ? dims : [dims]).map((d) => normAxis(op, d, rank));
  const set = new Set(list);
  // A repeated dim would be counted twice in the mean's divisor; PyTorch rejects it too.
  if (set.size !== list.length) throw new ArgumentError(`${op}: dim ${JSON.stringify(dims)} names a dimension more than once`);
  const kept = shape.map((d, i) => (set.has(i) ? 1 : d));
  const out = keepDims ? kept : shape.filter((_, i) => !set.has(i));
  return { kept, out, count: list.reduce((acc, i) => acc * shape[i], 1) };
}

function reduce(op: string, x: Tensor, dims: number | number[] | undefined, opts: ReduceOptions, scale: (count: number) => number): Tensor {
  expectTensor(op, 'x', x);
  const { kept, out, count } = reduceShape(op, x.shape, dims, opts.keepDims ?? false);
  const s = scale(count);
  const nOut = numel(kept);
  // idx[i] = output slot of input element i (the kept shape broadcast back to the input shape).
  const idx = broadcastIndex(kept, x.shape);
  const acc = new Float64Array(nOut);
  const xd = x.data;
  for (let i = 0; i < xd.length; i++) acc[idx[i]] += xd[i];
  const res = new Float32Array(nOut);
  for (let j = 0; j < nOut; j++) res[j] = acc[j] * s;
  return record(new Tensor(res, out), op, [x], (g) => {
    const gx = x.gradBuffer();
    for (let i = 0; i < gx.length; i++) gx[i] += g[idx[i]] * s;
  });
}

/** Sum over `dims` (all when omitted). */
export function sum(x: Tensor, dims?: number | number[], opts: ReduceOptions = {}): Tensor {
  return reduce('sum', x, dims, opts, () => 1);
}

/** Mean over `dims` (all when omitted): sum / count. */
export function mean(x: Tensor, dims?: number | number[], opts: ReduceOptions = {}): Tensor {
  return reduce('mean', x, dims, opts, (count) => 1 / count);
}
