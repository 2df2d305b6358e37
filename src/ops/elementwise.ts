// Elementwise binary ops with NumPy broadcasting (add, sub, mul, div) and unary math (neg, exp, log, sqrt, pow).
import { record } from '../autograd/record.js';
import { Tensor, numel } from '../tensor/tensor.js';
import { check } from '../tensor/errors.js';
import { broadcastIndex, broadcastShapes, expectTensor, sameShape } from './util.js';

type Operand = Tensor | number;

function asTensor(x: Operand): Tensor {
  return typeof x === 'number' ? new Tensor(new Float32Array([x]), []) : x;
}

/**
 * Shared driver of the four binary ops. `f` computes out from (a, b); `da`/`db` give the local
 * partial derivatives; broadcast inputs receive gradients summed over the broadcast positions.
 */
function binary(
  op: string,
  a0: Operand,
  b0: Operand,
  f: (x: number, y: number) => number,
  da: (x: number, y: number, g: number) => number,
  db: (x: number, y: number, g: number) => number,
): Tensor {
  if (typeof a0 !== 'number') expectTensor(op, 'a', a0);
  if (typeof b0 !== 'number') expectTensor(op, 'b', b0);
  const a = asTensor(a0);
  const b = asTensor(b0);
  const outShape = broadcastShapes(op, a.shape, b.shape);
  const n = numel(outShape);
  const out = new Float32Array(n);
  const ad = a.data;
  const bd = b.data;
  const same = sameShape(a.shape, outShape) && sameShape(b.shape, outShape);
  let ia: Int32Array | null = null;
  let ib: Int32Array | null = null;
  if (same) {
    for (let i = 0; i < n; i++) out[i] = f(ad[i], bd[i]);
  } else {
    ia = broadcastIndex(a.shape, outShape);
    ib = broadcastIndex(b.shape, outShape);
    for (let i = 0; i < n; i++) out[i] = f(ad[ia[i]], bd[ib[i]]);
  }
  return record(new Tensor(out, outShape), op, [a, b], (g) => {
    if (a.requiresGrad) {
      const ga = a.gradBuffer();
      if (ia === null) for (let i = 0; i < n; i++) ga[i] += da(ad[i], bd[i], g[i]);
      else for (let i = 0; i < n; i++) ga[ia[i]] += da(ad[ia[i]], bd[ib![i]], g[i]);
    }
    if (b.requiresGrad) {
      const gb = b.gradBuffer();
      if (ib === null) for (let i = 0; i < n; i++) gb[i] += db(ad[i], bd[i], g[i]);
      else for (let i = 0; i < n; i++) gb[ib[i]] += db(ad[ia![i]], bd[ib[i]], g[i]);
    }
  });
}

/** a + b (broadcasting). */
export function add(a: Operand, b: Operand): Tensor {
  return binary('add', a, b, (x, y) => x + y, (_x, _y, g) => g, (_x, _y, g) => g);
}

/** a - b (broadcasting). */
export function sub(a: Operand, b: Operand): Tensor {
  return binary('sub', a, b, (x, y) => x - y, (_x, _y, g) => g, (_x, _y, g) => -g);
}

/** a * b (broadcasting); d/da = b, d/db = a. */
export function mul(a: Operand, b: Operand): Tensor {
  return binary('mul', a, b, (x, y) => x * y, (_x, y, g) => g * y, (x, _y, g) => g * x);
}

/** a / b (broadcasting); d/da = 1/b, d/db = -a/b^2. */
export function div(a: Operand, b: Operand): Tensor {
  return binary('div', a, b, (x, y) => x / y, (_x, y, g) => g / y, (x, y, g) => (-g * x) / (y * y));
}

/** Shared driver of unary ops: `df(x, y)` is dy/dx given input x and output y. */
function unary(op: string, x: Tensor, f: (v: number) => number, df: (v: number, y: number) => number): Tensor {
  expectTensor(op, 'x', x);
  const xd = x.data;
  const n = xd.length;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = f(xd[i]);
  return record(new Tensor(out, x.shape), op, [x], (g) => {
    const gx = x.gradBuffer();
    for (let i = 0; i < n; i++) gx[i] += g[i] * df(xd[i], out[i]);
  });
}

/** -x */
export function neg(x: Tensor): Tensor {
  return unary('neg', x, (v) => -v, () => -1);
}

/** e^x */
export function exp(x: Tensor): Tensor {
  return unary('exp', x, Math.exp, (_v, y) => y);
}

/** Natural log; d/dx = 1/x. */
export function log(x: Tensor): Tensor {
  return unary('log', x, Math.log, (v) => 1 / v);
}

/** sqrt(x); d/dx = 1/(2 sqrt(x)). */
export function sqrt(x: Tensor): Tensor {
  return unary('sqrt', x, Math.sqrt, (_v, y) => 0.5 / y);
}

/** x^p for a constant exponent p; d/dx = p x^(p-1). */
export function pow(x: Tensor, p: number): Tensor {
  check(typeof p === 'number' && Number.isFinite(p), `pow: exponent must be a finite number, got ${String(p)}`);
  return unary('pow', x, (v) => Math.pow(v, p), (v) => p * Math.pow(v, p - 1));
}
