// WebAssembly SIMD activation kernels on the heap: relu and sigmoid, and their gradients (the module and its per-call wrappers).
//
// Why: V8 compiles a float32 loop to scalar code, and Math.exp costs ~15 ns per call (sigmoid was a quarter of the
// paper's net, W1; exp polynomials in JavaScript did not beat it). relu and its gradient work on the float bits and
// match their loops exactly; sigmoidGrad works in float64 lanes and rounds once, as the loop; sigmoid works in
// float32 (within 2 ulps, see sigmoid.ts). Each wrapper runs whole kernel steps over the operands' heap addresses
// (or the copy path, see build.ts) and finishes the last few values exactly: in JavaScript where that gives the
// same bits, through scratch for sigmoid, so that nothing is written past an output's end.

import {
  Consts,
  F32X4_DEMOTE_F64X2_ZERO,
  F64X2_MUL,
  F64X2_SPLAT,
  F64X2_SUB,
  I32,
  I32X4_NEG,
  I32X4_SHR_S,
  V128,
  V128_AND,
  V128_ANDNOT,
  V128_LOAD,
  V128_STORE,
  f64Const,
  i32Const,
  localGet,
  localSet,
  v128Store64Lane0,
} from '../wasm/asm.js';
import { CHUNK, END_FUNCTION, endAt, forPtr, instantiateOnHeap, loadF64, scratchRegions, staged } from './build.js';
import { SIGMOID_LOCALS, SIGMOID_STEP, sigmoidLoop } from './sigmoid.js';
import { allocStatic } from '../../tensor/heap.js';

/** relu(x, y, n): y = x & ~(x >> 31) on the float bits, four per step (n a multiple of 4). */
// Locals: x 0, y 1, n 2, END 3.
const relu = {
  name: 'relu',
  params: [I32, I32, I32],
  locals: [[1, I32]],
  body: [
    ...endAt(3, 0, 2),
    ...forPtr([0, 1], 3, 16, [
      ...localGet(1), ...localGet(0), ...V128_LOAD, ...localGet(0), ...V128_LOAD, ...i32Const(31), ...I32X4_SHR_S, ...V128_ANDNOT, ...V128_STORE,
    ]),
    ...END_FUNCTION,
  ],
};

/** reluGrad(g, y, gx, n): gx = g & ((-y) >> 31) on bits: g where y > 0 (y's bits are >= 0), else +0. */
// Locals: g 0, y 1, gx 2, n 3, END 4.
const reluGrad = {
  name: 'reluGrad',
  params: [I32, I32, I32, I32],
  locals: [[1, I32]],
  body: [
    ...endAt(4, 0, 3),
    ...forPtr([0, 1, 2], 4, 16, [
      ...localGet(2), ...localGet(0), ...V128_LOAD, ...localGet(1), ...V128_LOAD, ...I32X4_NEG, ...i32Const(31), ...I32X4_SHR_S, ...V128_AND,
      ...V128_STORE,
    ]),
    ...END_FUNCTION,
  ],
};

/** sigmoidGrad(g, y, gx, n): gx = f32((g * y) * (1 - y)) in float64, as the loop; two pairs per step (n a multiple of 4). */
// Locals: g 0, y 1, gx 2, n 3, END 4 (i32), ONE 5 (v128, 1.0 in both f64 lanes).
const sigmoidGrad = {
  name: 'sigmoidGrad',
  params: [I32, I32, I32, I32],
  locals: [[1, I32], [1, V128]],
  body: [
    ...f64Const(1), ...F64X2_SPLAT, ...localSet(5),
    ...endAt(4, 0, 3),
    ...forPtr([0, 1, 2], 4, 16, [0, 8].flatMap((o) => [
      ...localGet(2), ...loadF64(2, 0, o), ...loadF64(2, 1, o), ...F64X2_MUL, ...localGet(5), ...loadF64(2, 1, o), ...F64X2_SUB, ...F64X2_MUL,
      ...F32X4_DEMOTE_F64X2_ZERO, ...v128Store64Lane0(o),
    ])),
    ...END_FUNCTION,
  ],
};

// sigmoid(x, y, n): y = sigmoid(x), n a multiple of SIGMOID_STEP. Locals: x 0, y 1, n 2, END 3 (i32), then v128 from 4.
const sigmoidConsts = new Consts(4 + SIGMOID_LOCALS);
/** Built first: it registers the constants that setup() then initializes. */
const sigmoidBody = sigmoidLoop(0, 1, 3, 4, sigmoidConsts);
const sigmoid = {
  name: 'sigmoid',
  params: [I32, I32, I32],
  locals: [[1, I32], [SIGMOID_LOCALS + sigmoidConsts.count, V128]],
  body: [...endAt(3, 0, 2), ...sigmoidConsts.setup(), ...sigmoidBody, ...END_FUNCTION],
};

type Fn3 = (a: number, b: number, n: number) => void;
type Fn4 = (a: number, b: number, c: number, n: number) => void;

/** The activation kernels on arrays; null where the module cannot load (then the loops run). */
export interface ActivationSimd {
  relu(x: Float32Array, out: Float32Array): void;
  reluGrad(g: Float32Array, y: Float32Array, gx: Float32Array): void;
  sigmoid(x: Float32Array, out: Float32Array): void;
  sigmoidGrad(g: Float32Array, y: Float32Array, gx: Float32Array): void;
  /** y = sigmoid(x) over n values at heap byte addresses (whole steps in place, the rest through scratch), for the fused BatchNorm + sigmoid. */
  sigmoidAt(x: number, y: number, n: number): void;
}

/** Instantiates the module on the heap with its scratch (three copy regions and a sigmoid tail). */
export function createActivationSimd(): ActivationSimd | null {
  const m = instantiateOnHeap([relu, reluGrad, sigmoidGrad, sigmoid]);
  const regions = scratchRegions(3);
  const tail = allocStatic(4 * SIGMOID_STEP);
  if (m === null || regions === null || tail === null) return null;
  const e = m.exports;
  const heap = m.heap;
  const run = {
    relu: e.relu as Fn3,
    reluGrad: e.reluGrad as Fn4,
    sigmoidGrad: e.sigmoidGrad as Fn4,
    sigmoid: e.sigmoid as Fn3,
  };
  const per = { copy: CHUNK, direct: Infinity };
  /** Whole steps in place; the last (< SIGMOID_STEP) values through a one-step scratch, so the kernel gives them the same bits. */
  const sigmoidAt = (x: number, y: number, n: number) => {
    const whole = n - (n % SIGMOID_STEP);
    run.sigmoid(x, y, whole);
    if (whole === n) return;
    const t = tail >> 2;
    heap.f32.fill(0, t, t + SIGMOID_STEP);
    heap.f32.copyWithin(t, (x >> 2) + whole, (x >> 2) + n);
    run.sigmoid(tail, tail, SIGMOID_STEP);
    heap.f32.copyWithin((y >> 2) + whole, t, t + n - whole);
  };
  /** One-input kernel over the first n values (whole steps); the caller finishes the rest. */
  const one = (fn: Fn3, x: Float32Array, out: Float32Array, n: number) =>
    staged(heap, regions, [x, out], { reads: 1, writes: 2 }, { start: 0, end: n, per }, (p, _off, len) => fn(p[0], p[1], len));
  const two = (fn: Fn4, a: Float32Array, b: Float32Array, out: Float32Array, n: number) =>
    staged(heap, regions, [a, b, out], { reads: 3, writes: 4 }, { start: 0, end: n, per }, (p, _off, len) => fn(p[0], p[1], p[2], len));
  return {
    relu(x, out) {
      const n = x.length;
      const n4 = n & ~3;
      one(run.relu, x, out, n4);
      reluTail(x, out, n4, n);
    },
    reluGrad(g, y, gx) {
      const n = g.length;
      const n4 = n & ~3;
      two(run.reluGrad, g, y, gx, n4);
      const gi = bits(g);
      const yi = bits(y);
      const oi = bits(gx);
      for (let i = n4; i < n; i++) oi[i] = gi[i] & (-yi[i] >> 31);
    },
    sigmoid(x, out) {
      one(sigmoidAt, x, out, x.length);
    },
    sigmoidGrad(g, y, gx) {
      const n = g.length;
      const n4 = n & ~3;
      two(run.sigmoidGrad, g, y, gx, n4);
      for (let i = n4; i < n; i++) gx[i] = g[i] * y[i] * (1 - y[i]);
    },
    sigmoidAt,
  };
}

/** Int32 view of a Float32Array's bits. */
export function bits(a: Float32Array): Int32Array {
  return new Int32Array(a.buffer, a.byteOffset, a.length);
}

/** relu on the bits of values [from, to). */
function reluTail(x: Float32Array, out: Float32Array, from: number, to: number): void {
  if (from === to) return;
  const xi = bits(x);
  const oi = bits(out);
  for (let i = from; i < to; i++) {
    const v = xi[i];
    oi[i] = v & ~(v >> 31);
  }
}
