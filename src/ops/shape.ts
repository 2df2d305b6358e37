// Shape ops: reshape and flatten (views of the same data), transpose/permute (a copy).
import { record } from '../autograd/record.js';
import { Tensor, numel } from '../tensor/tensor.js';
import { ShapeError, ArgumentError, fmtShape } from '../tensor/errors.js';
import { describe, expectTensor, normAxis, stridesOf } from './util.js';
import { allocUninit } from '../tensor/alloc.js';

/** Same data, new shape; one dimension may be -1 (inferred). Gradient passes through unchanged. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  expectTensor('reshape', 'x', x);
  if (!Array.isArray(shape)) throw new ArgumentError(`reshape: shape must be an array of integers, got ${describe(shape)}`);
  const s = [...shape];
  const neg = s.indexOf(-1);
  if (neg >= 0) {
    const rest = numel(s.filter((_, i) => i !== neg));
    if (rest === 0 || x.size % rest !== 0) {
      throw new ShapeError(`reshape: cannot reshape ${fmtShape(x.shape)} (${x.size} values) into ${fmtShape(shape)}`);
    }
    s[neg] = x.size / rest;
  }
  if (numel(s) !== x.size || s.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new ShapeError(`reshape: cannot reshape ${fmtShape(x.shape)} (${x.size} values) into ${fmtShape(shape)}`);
  }
  return record(new Tensor(x.data, s), 'reshape', [x], (g) => {
    // Copied, not aliased: g goes back to the gradient pool after this rule (see src/tensor/pool.ts).
    if (x.grad === null) x.freshGrad().set(g);
    else {
      const gx = x.grad;
      for (let i = 0; i < g.length; i++) gx[i] += g[i];
    }
  });
}

/** Merges dimensions startDim..endDim into one (default from 1 to the last: (N, ...) -> (N, rest)). */
export function flatten(x: Tensor, startDim = 1, endDim = -1): Tensor {
  expectTensor('flatten', 'x', x);
  if (x.ndim === 0) return reshape(x, [1]);
  const a = normAxis('flatten', startDim, x.ndim);
  const b = normAxis('flatten', endDim, x.ndim);
  if (a > b) throw new ArgumentError(`flatten: startDim ${startDim} comes after endDim ${endDim}`);
  const shape = [...x.shape.slice(0, a), numel(x.shape.slice(a, b + 1)), ...x.shape.slice(b + 1)];
  return reshape(x, shape);
}

/** Reorders dimensions: out.shape[i] = x.shape[perm[i]]. */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  expectTensor('permute', 'x', x);
  if (!Array.isArray(perm)) throw new ArgumentError(`permute: perm must be an array of dimensions, got ${describe(perm)}`);
  const r = x.ndim;
  const p = perm.map((d) => normAxis('permute', d, r));
  if (p.length !== r || new Set(p).size !== r) throw new ArgumentError(`permute: ${JSON.stringify(perm)} is not a permutation of ${r} dimensions`);
  const outShape = p.map((d) => x.shape[d]);
  const inStr = stridesOf(x.shape);
  const n = x.size;
  // src[i] = flat input index of output element i.
  const src = new Int32Array(n);
  const ctr = new Array<number>(r).fill(0);
  let off = 0;
  for (let i = 0; i < n; i++) {
    src[i] = off;
    for (let d = r - 1; d >= 0; d--) {
      ctr[d]++;
      off += inStr[p[d]];
      if (ctr[d] < outShape[d]) break;
      off -= inStr[p[d]] * ctr[d];
      ctr[d] = 0;
    }
  }
  const xd = x.data;
  const out = allocUninit(n); // written in full below
  for (let i = 0; i < n; i++) out[i] = xd[src[i]];
  return record(new Tensor(out, outShape), 'permute', [x], (g) => {
    const gx = x.gradBuffer();
    for (let i = 0; i < n; i++) gx[src[i]] += g[i];
  });
}

/** Swaps two dimensions (default the last two, a matrix transpose). */
export function transpose(x: Tensor, dim0 = -2, dim1 = -1): Tensor {
  expectTensor('transpose', 'x', x);
  if (x.ndim < 2) return reshape(x, x.shape);
  const a = normAxis('transpose', dim0, x.ndim);
  const b = normAxis('transpose', dim1, x.ndim);
  const perm = x.shape.map((_, i) => i);
  perm[a] = b;
  perm[b] = a;
  return permute(x, perm);
}
