// Elementwise binary ops with NumPy broadcasting (add, sub, mul, div) and unary math (neg, exp, log, sqrt, pow).
import { record } from '../autograd/record.js';
import { Tensor, numel } from '../tensor/tensor.js';
import { check } from '../tensor/errors.js';
import { broadcastIndex, broadcastShapes, expectTensor, sameShape } from './util.js';
import { allocUninit, allocZeros } from '../tensor/alloc.js';

type Operand = Tensor | number;

function asTensor(x: Operand): Tensor {
  return typeof x === 'number' ? new Tensor(new Float32Array([x]), []) : x;
}

type BinaryKind = 'add' | 'sub' | 'mul' | 'div';

/**
 * Shared driver of the four binary ops. `f` computes out from (a, b); `da`/`db` give the local
 * partial derivatives; broadcast inputs receive gradients summed over the broadcast positions.
 * Equal shapes and a scalar operand (the common cases) run tight per-op loops (flatForward / flatBackward):
 * calling f per element from one shared loop made it megamorphic. Both paths do the same arithmetic.
 */
function binary(
  op: BinaryKind,
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
  const out = allocZeros(n);
  const ad = a.data;
  const bd = b.data;
  // Flat cases: both full size, or one a scalar that needs no gradient (a number operand, or a constant).
  const aFull = sameShape(a.shape, outShape);
  const bFull = sameShape(b.shape, outShape);
  const flat = (aFull && bFull) || (aFull && bd.length === 1 && !b.requiresGrad) || (bFull && ad.length === 1 && !a.requiresGrad);
  if (flat) {
    flatForward(op, ad, bd, out);
    return record(new Tensor(out, outShape), op, [a, b], (g) => {
      if (a.requiresGrad) flatBackward(op, 'a', ad, bd, g, a.gradBuffer());
      if (b.requiresGrad) flatBackward(op, 'b', ad, bd, g, b.gradBuffer());
    });
  }
  const ia = broadcastIndex(a.shape, outShape);
  const ib = broadcastIndex(b.shape, outShape);
  for (let i = 0; i < n; i++) out[i] = f(ad[ia[i]], bd[ib[i]]);
  return record(new Tensor(out, outShape), op, [a, b], (g) => {
    if (a.requiresGrad) {
      const ga = a.gradBuffer();
      for (let i = 0; i < n; i++) ga[ia[i]] += da(ad[ia[i]], bd[ib[i]], g[i]);
    }
    if (b.requiresGrad) {
      const gb = b.gradBuffer();
      for (let i = 0; i < n; i++) gb[ib[i]] += db(ad[ia[i]], bd[ib[i]], g[i]);
    }
  });
}

/** out = a op b where each of a, b is full size or a single value (read once). */
function flatForward(op: BinaryKind, ad: Float32Array, bd: Float32Array, out: Float32Array): void {
  const n = out.length;
  if (ad.length === n && bd.length === n) {
    switch (op) {
      case 'add': for (let i = 0; i < n; i++) out[i] = ad[i] + bd[i]; return;
      case 'sub': for (let i = 0; i < n; i++) out[i] = ad[i] - bd[i]; return;
      case 'mul': for (let i = 0; i < n; i++) out[i] = ad[i] * bd[i]; return;
      case 'div': for (let i = 0; i < n; i++) out[i] = ad[i] / bd[i]; return;
    }
  }
  if (bd.length === 1 && ad.length === n) {
    const y = bd[0];
    switch (op) {
      case 'add': for (let i = 0; i < n; i++) out[i] = ad[i] + y; return;
      case 'sub': for (let i = 0; i < n; i++) out[i] = ad[i] - y; return;
      case 'mul': for (let i = 0; i < n; i++) out[i] = ad[i] * y; return;
      case 'div': for (let i = 0; i < n; i++) out[i] = ad[i] / y; return;
    }
  }
  const x = ad[0];
  switch (op) {
    case 'add': for (let i = 0; i < n; i++) out[i] = x + bd[i]; return;
    case 'sub': for (let i = 0; i < n; i++) out[i] = x - bd[i]; return;
    case 'mul': for (let i = 0; i < n; i++) out[i] = x * bd[i]; return;
    case 'div': for (let i = 0; i < n; i++) out[i] = x / bd[i]; return;
  }
}

/**
 * Adds the gradient of operand `which` (full size here: a scalar operand never needs one on this path) to gt:
 * add: g, g; sub: g, -g; mul: g b, g a; div: g / b, -g a / b^2 (the same expressions as the broadcast path).
 */
function flatBackward(op: BinaryKind, which: 'a' | 'b', ad: Float32Array, bd: Float32Array, g: Float32Array, gt: Float32Array): void {
  const n = g.length;
  const sa = ad.length === n ? 1 : 0;
  const sb = bd.length === n ? 1 : 0;
  if (op === 'add' || (op === 'sub' && which === 'a')) {
    for (let i = 0; i < n; i++) gt[i] += g[i];
  } else if (op === 'sub') {
    for (let i = 0; i < n; i++) gt[i] += -g[i];
  } else if (op === 'mul') {
    if (which === 'a') for (let i = 0; i < n; i++) gt[i] += g[i] * bd[i * sb];
    else for (let i = 0; i < n; i++) gt[i] += g[i] * ad[i * sa];
  } else if (which === 'a') {
    for (let i = 0; i < n; i++) gt[i] += g[i] / bd[i * sb];
  } else {
    for (let i = 0; i < n; i++) gt[i] += (-g[i] * ad[i * sa]) / (bd[i] * bd[i]);
  }
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
  const out = allocUninit(n); // written in full below
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
