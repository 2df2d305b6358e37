// Helpers shared by ops: argument checks that name the op, shape arithmetic, broadcasting index maps.
import { ShapeError, ArgumentError, fmtShape } from '../tensor/errors.js';
import { Tensor } from '../tensor/tensor.js';

/** Throws unless `x` is a Tensor (a clear message instead of a TypeError deep inside). */
export function expectTensor(op: string, name: string, x: unknown): asserts x is Tensor {
  if (!(x instanceof Tensor)) throw new ArgumentError(`${op}: '${name}' must be a Tensor, got ${describe(x)}`);
}

/** Throws unless `x` has `rank` dimensions; `expected` describes the layout, e.g. '(N, C, H, W)'. */
export function expectRank(op: string, x: Tensor, rank: number | number[], expected: string): void {
  const ok = Array.isArray(rank) ? rank.includes(x.ndim) : x.ndim === rank;
  if (!ok) throw new ShapeError(`${op}: expected input of shape ${expected}, got ${fmtShape(x.shape)}`);
}

/** A short description of a value for error messages. */
export function describe(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return `an array of length ${x.length}`;
  if (typeof x === 'object') return (x as object).constructor?.name ?? 'an object';
  return `${typeof x} ${String(x)}`;
}

/** Resolves a possibly negative axis against a rank. */
export function normAxis(op: string, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(axis) || a < 0 || a >= Math.max(rank, 1)) {
    throw new ArgumentError(`${op}: dim ${axis} is out of range for a tensor with ${rank} dimensions`);
  }
  return a;
}

/** Row-major strides of a shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** NumPy broadcasting of two shapes; throws a ShapeError naming the op. */
export function broadcastShapes(op: string, a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(`${op}: shapes ${fmtShape(a)} and ${fmtShape(b)} cannot be broadcast together (dimension ${i}: ${da} vs ${db})`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/**
 * For each flat index of `outShape`, the flat index into a tensor of `inShape` broadcast to it.
 * Used by broadcasting ops and by reductions (where in/out swap roles).
 */
export function broadcastIndex(inShape: readonly number[], outShape: readonly number[]): Int32Array {
  const n = outShape.length;
  const inStr = stridesOf(inShape);
  // Stride 0 along dimensions that are broadcast (size 1 or missing in the input).
  const str = new Array<number>(n).fill(0);
  for (let i = 0; i < inShape.length; i++) {
    const oi = n - inShape.length + i;
    str[oi] = inShape[i] === 1 && outShape[oi] !== 1 ? 0 : inStr[i];
  }
  let total = 1;
  for (const d of outShape) total *= d;
  const idx = new Int32Array(total);
  const ctr = new Array<number>(n).fill(0);
  let off = 0;
  for (let f = 0; f < total; f++) {
    idx[f] = off;
    for (let d = n - 1; d >= 0; d--) {
      ctr[d]++;
      off += str[d];
      if (ctr[d] < outShape[d]) break;
      off -= str[d] * ctr[d];
      ctr[d] = 0;
    }
  }
  return idx;
}

/** True when two shapes are equal. */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
