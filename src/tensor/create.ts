// Creating tensors: from values, constants, ranges and seeded random draws.
import { ArgumentError, check } from './errors.js';
import { getRng, type Rng } from './rng.js';
import { Tensor, numel } from './tensor.js';
import { allocCopy, allocUninit, allocZeros } from './alloc.js';

type Nested = number | Nested[];

function inferShape(v: Nested): number[] {
  const shape: number[] = [];
  let cur: Nested = v;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    cur = cur[0] as Nested;
  }
  return shape;
}

function flatten(v: Nested, shape: number[], depth: number, out: number[]): void {
  if (depth === shape.length) {
    if (typeof v !== 'number') throw new ArgumentError('tensor: nested arrays are ragged or hold non-numbers');
    out.push(v);
    return;
  }
  if (!Array.isArray(v) || v.length !== shape[depth]) {
    throw new ArgumentError(`tensor: nested arrays are ragged at depth ${depth} (expected length ${shape[depth]})`);
  }
  for (const x of v) flatten(x, shape, depth + 1, out);
}

/**
 * A tensor from values: `tensor([[1, 2], [3, 4]])`, or flat values with a shape: `tensor([1, 2, 3, 4], [2, 2])`.
 * A Float32Array is used as storage without copying (it stays outside the WebAssembly heap, so kernels copy it in at
 * each use; `tensor(Array.from(a))` or `.clone()` makes a heap copy). Other data is copied into fresh storage.
 */
export function tensor(data: Nested | Float32Array | ArrayLike<number>, shape?: readonly number[], opts: { requiresGrad?: boolean } = {}): Tensor {
  let flat: Float32Array;
  let shp: readonly number[];
  if (data instanceof Float32Array) {
    flat = data;
    shp = shape ?? [data.length];
  } else if (typeof data === 'number') {
    flat = new Float32Array([data]);
    shp = shape ?? [];
  } else if (Array.isArray(data) && shape === undefined) {
    shp = inferShape(data as Nested);
    const out: number[] = [];
    flatten(data as Nested, shp as number[], 0, out);
    flat = allocCopy(Float32Array.from(out));
  } else {
    if (typeof data !== 'object' || data === null || typeof (data as ArrayLike<number>).length !== 'number') {
      throw new ArgumentError(`tensor: data must be a number, a (nested) array of numbers or a Float32Array, got ${typeof data}`);
    }
    const arr = Array.isArray(data) ? (data as Nested[]).flat(Infinity as 1) : Array.from(data as ArrayLike<number>);
    // Float32Array.from would turn strings and undefined into NaN silently.
    if (!arr.every((v) => typeof v === 'number')) throw new ArgumentError('tensor: data must hold numbers only');
    flat = allocCopy(Float32Array.from(arr as number[]));
    shp = shape ?? [flat.length];
  }
  return new Tensor(flat, [...shp], opts.requiresGrad ?? false);
}

function checkShape(fn: string, shape: readonly number[]): void {
  check(Array.isArray(shape) && shape.every((d) => Number.isInteger(d) && d >= 0), () => `${fn}: shape must be an array of non-negative ` +
    `integers, got ${JSON.stringify(shape)}`);
}

/** All zeros. */
export function zeros(shape: readonly number[], opts: { requiresGrad?: boolean } = {}): Tensor {
  checkShape('zeros', shape);
  return new Tensor(allocZeros(numel(shape)), [...shape], opts.requiresGrad ?? false);
}

/** All ones. */
export function ones(shape: readonly number[], opts: { requiresGrad?: boolean } = {}): Tensor {
  return full(shape, 1, opts);
}

/** All equal to `value`. */
export function full(shape: readonly number[], value: number, opts: { requiresGrad?: boolean } = {}): Tensor {
  checkShape('full', shape);
  return new Tensor(allocUninit(numel(shape)).fill(value), [...shape], opts.requiresGrad ?? false);
}

/** Values start, start+step, ... below end (like torch.arange). */
export function arange(start: number, end?: number, step = 1): Tensor {
  if (end === undefined) {
    end = start;
    start = 0;
  }
  check(step !== 0 && Number.isFinite(step), 'arange: step must be a non-zero finite number');
  const n = Math.max(0, Math.ceil((end - start) / step));
  const d = allocUninit(n);
  for (let i = 0; i < n; i++) d[i] = start + i * step;
  return new Tensor(d, [n]);
}

export interface RandomOptions {
  /** Generator to draw from (default: the global one seeded by manualSeed). */
  rng?: Rng;
  requiresGrad?: boolean;
}

/** Normal draws: mean + std * N(0, 1). Defaults mean 0, std 1. */
export function randn(shape: readonly number[], opts: RandomOptions & { mean?: number; std?: number } = {}): Tensor {
  checkShape('randn', shape);
  const rng = opts.rng ?? getRng();
  const mean = opts.mean ?? 0;
  const std = opts.std ?? 1;
  const d = allocUninit(numel(shape));
  for (let i = 0; i < d.length; i++) d[i] = mean + std * rng.normal();
  return new Tensor(d, [...shape], opts.requiresGrad ?? false);
}

/** Uniform draws in [low, high). Defaults [0, 1). */
export function rand(shape: readonly number[], opts: RandomOptions & { low?: number; high?: number } = {}): Tensor {
  checkShape('rand', shape);
  const rng = opts.rng ?? getRng();
  const low = opts.low ?? 0;
  const high = opts.high ?? 1;
  const d = allocUninit(numel(shape));
  for (let i = 0; i < d.length; i++) d[i] = low + (high - low) * rng.uniform();
  return new Tensor(d, [...shape], opts.requiresGrad ?? false);
}
