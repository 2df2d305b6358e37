// WebAssembly SIMD BatchNorm kernels on the heap: plane layout ((N, C, S), S >= 32) and matrix layout ((N, C), ReLU or sigmoid fused).
//
// Why: V8 runs the loops of ../loops/batchnorm.ts scalar at ~1-3 ns per element, and BatchNorm was a fifth of the
// MLP workloads (W1, W2) and all of W4. Every kernel computes in float64 lanes and rounds once, in the loops'
// order, so the results are bit-identical to the loops (and, with an activation, to the loops followed by the
// activation's own kernel).
// Plane layout: a kernel loops over the planes of a range itself, with per-plane coefficients in and per-plane
// sums out (tables of MAX_PLANES entries), one call per up to MAX_PLANES planes instead of one per 784-value plane.
// Sums come back as the loops' separate chains (two or four per plane) and JavaScript adds the tails and combines
// them as the loops do.
// Matrix layout: an (N, C) input is a row-major matrix whose channels are columns; a row is processed four
// columns at a time, with per-column coefficients and running sums in float64 tables (each column keeps its own
// sum, in row order, as the loops do). Fusing the activation saves its pass over the tensor, its output tensor
// and, in the backward, the materialized gradient before it (dy is derived on the fly in both passes).
// Operands in the heap are used in place; others go through scratch regions chunk by chunk (see build.ts).

import {
  F32X4_DEMOTE_F64X2_ZERO,
  F64X2_ADD,
  F64X2_MUL,
  F64X2_PROMOTE_LOW_F32X4,
  F64X2_SPLAT,
  F64X2_SUB,
  I32,
  I32_ADD,
  I32_MUL,
  I32_SHL,
  I32X4_NEG,
  I32X4_SHR_S,
  V128,
  V128_AND,
  V128_ANDNOT,
  V128_STORE,
  V128_STORE_16,
  f64Const,
  i32Const,
  localGet,
  localSet,
  localTee,
  shuffle,
  simd,
  uleb,
  v128Load,
  type WasmFunction,
} from '../wasm/asm.js';
import {
  CHUNK,
  END_FUNCTION,
  add,
  allResident,
  endAt,
  forCount,
  forPtr,
  ifBelow,
  instantiateOnHeap,
  loadF64,
  rowsLoop,
  scratchRegions,
  staged,
  storeF32,
  type HeapViews,
} from './build.js';
import type { BnAct, BnGradCoef } from '../families.js';
import type { ActivationSimd } from './activation.js';
import { allocStatic } from '../../tensor/heap.js';

const F64_LOAD = (offset: number) => [0x2b, 3, ...uleb(offset)];
const V128_ZERO = [...simd(0x0c), ...new Array<number>(16).fill(0)];
const V128_STORE_AT = (offset: number) => [...simd(0x0b), 2, ...uleb(offset)];
/** local v = (f64 at local p + offset) in both lanes. */
const splatAt = (v: number, p: number, offset: number) => [...localGet(p), ...F64_LOAD(offset), ...F64X2_SPLAT, ...localSet(v)];
/** local dst = local base + local idx * local bytes (a plane's start). */
const planeAt = (dst: number, base: number, idx: number, bytes: number) => [
  ...localGet(base), ...localGet(idx), ...localGet(bytes), ...I32_MUL, ...I32_ADD, ...localSet(dst),
];
const stride4 = (l: number) => [...localGet(l), ...i32Const(2), ...I32_SHL, ...localSet(l)];

// ---- Plane layout ----

/**
 * affine(x, y, n, planes, coef): for each of `planes` consecutive planes of n values, y = f32(x * a + b) in
 * float64 with the plane's (a, b) at coef + 16 p. Eight values per step, then one at a time to the plane's end.
 */
// Locals: x 0, y 1, n 2, planes 3, coef 4; IDX 5, END 6, END8 7 (i32); A 8, B 9 (v128).
const affineStep = (w: 1 | 2, o: number) => [
  ...localGet(1), ...loadF64(w, 0, o), ...localGet(8), ...F64X2_MUL, ...localGet(9), ...F64X2_ADD, ...F32X4_DEMOTE_F64X2_ZERO, ...storeF32(w, o),
];
const planeAffine: WasmFunction = {
  name: 'planeAffine',
  params: [I32, I32, I32, I32, I32],
  locals: [[3, I32], [2, V128]],
  body: [
    ...forCount(5, 3, [
      ...splatAt(8, 4, 0), ...splatAt(9, 4, 8), ...add(4, 16),
      ...endAt(6, 0, 2), ...endAt(7, 0, 2, -8),
      ...forPtr([0, 1], 7, 32, [0, 8, 16, 24].flatMap((o) => affineStep(2, o))),
      ...forPtr([0, 1], 6, 4, affineStep(1, 0)),
    ]),
    ...END_FUNCTION,
  ],
};

/**
 * gradAffine(dy, x, dx, n, planes, coef): dx = f32(a * dy + b * x + k) in float64 over consecutive planes, (a, b, k)
 * at coef + 24 p, as the loop; eight values per step, then one at a time.
 */
// Locals: dy 0, x 1, dx 2, n 3, planes 4, coef 5; IDX 6, END 7, END8 8 (i32); A 9, B 10, K 11 (v128).
const gradAffineStep = (w: 1 | 2, o: number) => [
  ...localGet(2), ...localGet(9), ...loadF64(w, 0, o), ...F64X2_MUL, ...localGet(10), ...loadF64(w, 1, o), ...F64X2_MUL, ...F64X2_ADD,
  ...localGet(11), ...F64X2_ADD, ...F32X4_DEMOTE_F64X2_ZERO, ...storeF32(w, o),
];
const planeGradAffine: WasmFunction = {
  name: 'planeGradAffine',
  params: [I32, I32, I32, I32, I32, I32],
  locals: [[3, I32], [3, V128]],
  body: [
    ...forCount(6, 4, [
      ...splatAt(9, 5, 0), ...splatAt(10, 5, 8), ...splatAt(11, 5, 16), ...add(5, 24),
      ...endAt(7, 0, 3), ...endAt(8, 0, 3, -8),
      ...forPtr([0, 1, 2], 8, 32, [0, 8, 16, 24].flatMap((o) => gradAffineStep(2, o))),
      ...forPtr([0, 1, 2], 7, 4, gradAffineStep(1, 0)),
    ]),
    ...END_FUNCTION,
  ],
};

/**
 * gradSums(dy, x, n, stride, planes, mu, out): the backward sums over the first n values (a multiple of 4) of each
 * of `planes` planes `stride` values apart, four accumulators as the loop: a_j = sum(dy[i]), b_j = sum(dy[i] *
 * (x[i] - mu)) over i = j mod 4, in float64 and in the loop's order, mu at mu + 8 p; stored at out + 64 p as
 * (a0, a1, a2, a3, b0, b1, b2, b3). Eight values per step, then four if n mod 8 = 4.
 */
// Locals: dy 0, x 1, n 2, stride 3, planes 4, mu 5, out 6; END 7, IDX 8, PD 9, END8 10, PX 11 (i32);
// MU 12, A01 13, A23 14, B01 15, B23 16, G 17 (v128).
const sumStep = (o: number, a: number, b: number) => [
  ...loadF64(2, 9, o), ...localTee(17), ...localGet(a), ...F64X2_ADD, ...localSet(a),
  ...localGet(17), ...loadF64(2, 11, o), ...localGet(12), ...F64X2_SUB, ...F64X2_MUL, ...localGet(b), ...F64X2_ADD, ...localSet(b),
];
const planeGradSums: WasmFunction = {
  name: 'planeGradSums',
  params: [I32, I32, I32, I32, I32, I32, I32],
  locals: [[5, I32], [6, V128]],
  body: [
    ...stride4(3),
    ...forCount(8, 4, [
      ...splatAt(12, 5, 0), ...add(5, 8),
      ...[13, 14, 15, 16].flatMap((v) => [...V128_ZERO, ...localSet(v)]),
      ...planeAt(9, 0, 8, 3), ...planeAt(11, 1, 8, 3),
      ...endAt(7, 9, 2), ...endAt(10, 9, 2, -8),
      ...forPtr([9, 11], 10, 32, [...sumStep(0, 13, 15), ...sumStep(8, 14, 16), ...sumStep(16, 13, 15), ...sumStep(24, 14, 16)]),
      ...ifBelow(9, 7, [...sumStep(0, 13, 15), ...sumStep(8, 14, 16)]),
      ...[13, 14, 15, 16].flatMap((v, i) => [...localGet(6), ...localGet(v), ...V128_STORE_AT(16 * i)]),
      ...add(6, 64),
    ]),
    ...END_FUNCTION,
  ],
};

/**
 * stats(x, n, stride, planes, k, out): the shifted sums over the first n values (a multiple of 8) of each of
 * `planes` planes `stride` values apart, as the loop: per block of 8, s0 += ((d0 + d2) + d4) + d6 and
 * s1 += ((d1 + d3) + d5) + d7 with d = x - k (k at k + 8 p), q0 and q1 likewise of d^2, in float64; stored at
 * out + 32 p as (s0, s1, q0, q1). Consecutive pairs (d_2j, d_2j+1) make the two lanes the loop's two chains. Why
 * even/odd chains: a pair is one v128.load64_zero and one promote; chains of (d0..d3, d4..d7) needed a load32_zero
 * and a load32_lane per pair, and the pass took 2.15 ms instead of 1.63 ms on (64,64,28,28) (shuffles and
 * conversions share one port). Two blocks per step, then one if n mod 16 = 8.
 */
// Locals: x 0, n 1, stride 2, planes 3, k 4, out 5; END 6, IDX 7, PX 8, END16 9 (i32); K 10, SA 11, QA 12, P0-P3 13-16 (v128).
const sq = (v: number) => [...localGet(v), ...localGet(v), ...F64X2_MUL];
const statsBlock = (o: number) => [
  ...[0, 1, 2, 3].flatMap((j) => [...loadF64(2, 8, o + 8 * j), ...localGet(10), ...F64X2_SUB, ...localSet(13 + j)]),
  ...localGet(11), ...localGet(13), ...localGet(14), ...F64X2_ADD, ...localGet(15), ...F64X2_ADD, ...localGet(16), ...F64X2_ADD,
  ...F64X2_ADD, ...localSet(11),
  ...localGet(12), ...sq(13), ...sq(14), ...F64X2_ADD, ...sq(15), ...F64X2_ADD, ...sq(16), ...F64X2_ADD,
  ...F64X2_ADD, ...localSet(12),
];
const planeStats: WasmFunction = {
  name: 'planeStats',
  params: [I32, I32, I32, I32, I32, I32],
  locals: [[4, I32], [7, V128]],
  body: [
    ...stride4(2),
    ...forCount(7, 3, [
      ...splatAt(10, 4, 0), ...add(4, 8),
      ...V128_ZERO, ...localSet(11), ...V128_ZERO, ...localSet(12),
      ...planeAt(8, 0, 7, 2),
      ...endAt(6, 8, 1), ...endAt(9, 8, 1, -16),
      ...forPtr([8], 9, 64, [...statsBlock(0), ...statsBlock(32)]),
      ...ifBelow(8, 6, statsBlock(0)),
      ...localGet(5), ...localGet(11), ...V128_STORE,
      ...localGet(5), ...localGet(12), ...V128_STORE_16,
      ...add(5, 32),
    ]),
    ...END_FUNCTION,
  ],
};

// ---- Matrix layout ----

/**
 * A kernel over the rows of C values (C a multiple of 4) of its data operands: parameters are the data pointers
 * (nData, the first bounding the loop), n (values: rows * C), C, then the per-column float64 tables (table j at
 * tables + j * TABLE_BYTES, MAX_COLS entries each); `step(L)` handles 4 columns, at the offsets L.od (data) and
 * L.ot (tables) from the pointers (see rowsLoop).
 */
function matrixKernel(name: string, nData: number, scratch: number, step: (L: MatrixLocals) => number[]): WasmFunction {
  const n = nData;
  const C = nData + 1;
  const tables = nData + 2;
  const first = nData + 3;
  const data = Array.from({ length: nData }, (_, i) => i);
  const L = (u: 0 | 1): MatrixLocals => ({ d: (i) => i, cursor: first + 2, V: first + 3, od: 16 * u, ot: 32 * u });
  return {
    name,
    params: new Array<number>(nData + 3).fill(I32),
    locals: [[3, I32], ...(scratch > 0 ? [[scratch, V128]] : [])],
    body: [...rowsLoop(data, { n, C, tables, cursor: first + 2, end: first, rowEnd: first + 1 }, (u) => step(L(u))), ...END_FUNCTION],
  };
}

interface MatrixLocals {
  /** Local of data pointer i. */
  d: (i: number) => number;
  /** Local of the tables' cursor. */
  cursor: number;
  /** First v128 scratch local. */
  V: number;
  /** Byte offsets of the step's four columns from the data pointers and from the table cursor. */
  od: number;
  ot: number;
}

/** Float64 entries of each per-column table, and its bytes. */
const MAX_COLS = 4096;
const TABLE_BYTES = 8 * MAX_COLS;

/** The lanes 0-1 of a and of b, as one f32x4: the two demoted halves of a step back together. */
const JOIN = shuffle([0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23]);
/** Lanes 2-3 of a v128 moved to lanes 0-1. */
const HIGH = shuffle([8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15]);
/** The f64x2 of table j for half h of the step. */
const col = (L: MatrixLocals, j: number, h: number) => [...localGet(L.cursor), ...v128Load(j * TABLE_BYTES + L.ot + 16 * h)];
/** Table j, half h += value. */
const colAdd = (L: MatrixLocals, j: number, h: number, value: number[]) => [
  ...localGet(L.cursor), ...col(L, j, h), ...value, ...F64X2_ADD, ...V128_STORE_AT(j * TABLE_BYTES + L.ot + 16 * h),
];
/** Two f32 of data operand i, half h (0: lanes 0-1, 1: lanes 2-3 of the step), promoted. */
const data2 = (L: MatrixLocals, i: number, h: number) => loadF64(2, L.d(i), L.od + 8 * h);
const data4 = (L: MatrixLocals, i: number) => [...localGet(L.d(i)), ...v128Load(L.od)];

/** stats(x, n, C, k, s, q): s[c] += x - k[c], q[c] += (x - k[c])^2 per column. */
const matrixStats = matrixKernel('matrixStats', 1, 1, (L) =>
  [0, 1].flatMap((h) => [
    ...data2(L, 0, h), ...col(L, 0, h), ...F64X2_SUB, ...localSet(L.V),
    ...colAdd(L, 1, h, localGet(L.V)),
    ...colAdd(L, 2, h, [...localGet(L.V), ...localGet(L.V), ...F64X2_MUL]),
  ]),
);

/** affine(x, y, n, C, scale, shift): y = f32(x * scale[c] + shift[c]), then relu on the bits if asked (as the relu kernel). */
const matrixAffine = (relu: boolean) =>
  matrixKernel(relu ? 'matrixAffine_relu' : 'matrixAffine_none', 2, 1, (L) => [
    ...localGet(L.d(1)),
    ...[0, 1].flatMap((h) => [...data2(L, 0, h), ...col(L, 0, h), ...F64X2_MUL, ...col(L, 1, h), ...F64X2_ADD, ...F32X4_DEMOTE_F64X2_ZERO]),
    ...JOIN,
    ...(relu ? [...localSet(L.V), ...localGet(L.V), ...localGet(L.V), ...i32Const(31), ...I32X4_SHR_S, ...V128_ANDNOT] : []),
    ...V128_STORE_AT(L.od),
  ]);

/**
 * The gradient before the activation for half h of the step, as f64x2 of float32-rounded values, from the output
 * gradient dz (data 0) and the activation's output y (data 2): dz; relu: dz where y > 0 (on bits, as the relu
 * gradient kernel; local V holds the masked f32x4, set by `actGradSetup`); sigmoid: f32((dz * y) * (1 - y)).
 */
function actGrad(L: MatrixLocals, act: BnAct, h: number): number[] {
  const V = L.V;
  if (act === 'relu') return [...localGet(V), ...(h === 1 ? [...localGet(V), ...HIGH] : []), ...F64X2_PROMOTE_LOW_F32X4];
  if (act === 'sigmoid') {
    // y loaded once (kept in local V + 2 for 1 - y).
    return [
      ...data2(L, 0, h), ...data2(L, 2, h), ...localTee(V + 2), ...F64X2_MUL, ...f64Const(1), ...F64X2_SPLAT, ...localGet(V + 2), ...F64X2_SUB,
      ...F64X2_MUL, ...F32X4_DEMOTE_F64X2_ZERO, ...F64X2_PROMOTE_LOW_F32X4,
    ];
  }
  return data2(L, 0, h);
}
const actGradSetup = (L: MatrixLocals, act: BnAct) =>
  act === 'relu' ? [...data4(L, 0), ...data4(L, 2), ...I32X4_NEG, ...i32Const(31), ...I32X4_SHR_S, ...V128_AND, ...localSet(L.V)] : [];

/**
 * gradSums(dz, x, [y,] n, C, mean, s1, s2): s1[c] += dy, s2[c] += dy * (x - mean[c]), dy = act'(dz) (y only with
 * an activation). The `keep` form (dz, x, y, dy, n, C, mean, s1, s2) also stores dy (float32) at its fourth
 * operand, so that the dx pass that follows is gradApply_none on it: deriving the sigmoid's gradient again in that
 * pass made it four times as long.
 */
const matrixGradSums = (act: BnAct, keep = false) =>
  matrixKernel(`matrixGradSums${keep ? 'Keep' : ''}_${act ?? 'none'}`, act === null ? 2 : keep ? 4 : 3, 3, (L) => [
    ...actGradSetup(L, act),
    ...(keep && act === 'relu' ? [...localGet(L.d(3)), ...localGet(L.V), ...V128_STORE_AT(L.od)] : []),
    ...[0, 1].flatMap((h) => [
      ...actGrad(L, act, h), ...localSet(L.V + 1),
      ...(keep && act === 'sigmoid' ? [...localGet(L.d(3)), ...localGet(L.V + 1), ...F32X4_DEMOTE_F64X2_ZERO, ...storeF32(2, L.od + 8 * h)] : []),
      ...colAdd(L, 1, h, localGet(L.V + 1)),
      ...colAdd(L, 2, h, [...localGet(L.V + 1), ...data2(L, 1, h), ...col(L, 0, h), ...F64X2_SUB, ...F64X2_MUL]),
    ]),
  ]);

/** gradApply(dz, x, [y,] dx, n, C, a, b, k): dx = f32(a[c] * dy + b[c] * x + k[c]), dy = act'(dz) (y only with an activation). */
const matrixGradApply = (act: BnAct) =>
  matrixKernel(`matrixGradApply_${act ?? 'none'}`, act === null ? 3 : 4, 3, (L) => [
    ...actGradSetup(L, act),
    ...localGet(L.d(act === null ? 2 : 3)),
    ...[0, 1].flatMap((h) => [
      ...col(L, 0, h), ...actGrad(L, act, h), ...F64X2_MUL, ...col(L, 1, h), ...data2(L, 1, h), ...F64X2_MUL, ...F64X2_ADD,
      ...col(L, 2, h), ...F64X2_ADD, ...F32X4_DEMOTE_F64X2_ZERO,
    ]),
    ...JOIN,
    ...V128_STORE_AT(L.od),
  ]);

const ACTS: BnAct[] = [null, 'relu', 'sigmoid'];
const FUNCTIONS = [
  planeStats, planeAffine, planeGradSums, planeGradAffine,
  matrixStats, matrixAffine(false), matrixAffine(true),
  ...ACTS.map((a) => matrixGradSums(a)), matrixGradSums('relu', true), matrixGradSums('sigmoid', true), ...ACTS.map(matrixGradApply),
];

/** Below this plane size (S values per channel and sample) the plane kernels decline and the loops run. */
export const MIN_PLANE = 32;
/** Planes per call of a plane kernel (its coefficient and sum tables). */
const MAX_PLANES = 1024;

type Fn = (...args: number[]) => void;
type Span = { C: number; S: number; n0: number; n1: number };
type Sums = { sumDy: Float64Array; sumDyXc: Float64Array };

/**
 * The BatchNorm kernels on arrays. Each returns false (nothing written) where its kernel does not take the shape:
 * plane kernels need S >= MIN_PLANE (and, for the sums outside the heap, planes within a chunk), matrix kernels
 * S = 1 and C a multiple of 4 up to MAX_COLS.
 */
export interface BatchNormSimd {
  /** sums[c] = sum(x - K), sqs[c] = sum((x - K)^2), K = the channel's first value in the span (the loops' raw sums). */
  stats(x: Float32Array, span: Span, sums: Float64Array, sqs: Float64Array): boolean;
  /** y = act(f32(x * scale[c] + shift[c])); act only in matrix layout (false otherwise when act is set). */
  affine(x: Float32Array, y: Float32Array, span: Span, scale: Float64Array, shift: Float64Array, act: BnAct): boolean;
  /** The backward sums of dy = act'(dz) (dz itself without act; y is the activation's output). */
  gradSums(dz: Float32Array, x: Float32Array, y: Float32Array, act: BnAct, span: Span, mean: Float64Array, out: Sums): boolean;
  /** dx = f32(a dy + b x + k), written, dy = act'(dz). */
  gradApply(dz: Float32Array, x: Float32Array, y: Float32Array, act: BnAct, dx: Float32Array, span: Span, coef: BnGradCoef): boolean;
  /**
   * gradSums, then `coefficients()`, then gradApply (when dx is given), in matrix layout; when the rows fit one chunk
   * (or all operands are in the heap) in one visit, so that operands outside the heap are copied in once.
   */
  matrixGrad(
    dz: Float32Array, x: Float32Array, y: Float32Array, act: BnAct, dx: Float32Array | null,
    span: Span & { mean: Float64Array }, out: Sums, coefficients: () => BnGradCoef,
  ): boolean;
  /** Whether the matrix kernels take C columns. */
  matrixApplies(C: number): boolean;
}

/** Instantiates the module on the heap with its scratch (four copy regions, three column tables, two plane tables). */
export function createBatchNormSimd(activation: ActivationSimd): BatchNormSimd | null {
  const m = instantiateOnHeap(FUNCTIONS);
  const regions = scratchRegions(4);
  const tables = allocStatic(8 * (3 * MAX_COLS + 3 * MAX_PLANES + 8 * MAX_PLANES));
  if (m === null || regions === null || tables === null) return null;
  return new Bn(m.heap, regions, tables, m.exports as Record<string, Fn>, activation);
}

/** Export names of the matrix backward kernels by activation. */
const SUMS = { none: 'matrixGradSums_none', relu: 'matrixGradSums_relu', sigmoid: 'matrixGradSums_sigmoid' };
const KEEP = { none: 'matrixGradSums_none', relu: 'matrixGradSumsKeep_relu', sigmoid: 'matrixGradSumsKeep_sigmoid' };
const APPLY = { none: 'matrixGradApply_none', relu: 'matrixGradApply_relu', sigmoid: 'matrixGradApply_sigmoid' };

/** The module's state and the per-call wrappers (tables filled, operands staged, sums combined as the loops do). */
class Bn implements BatchNormSimd {
  private readonly f64: Float64Array;
  /** Byte addresses of the three per-column tables, the per-plane coefficients and the per-plane sums. */
  private readonly col: number[];
  private readonly coef: number;
  private readonly out: number;
  /** The statistics' per-channel shifts (grown as needed). */
  private K = new Float64Array(0);

  constructor(
    private readonly heap: HeapViews, private readonly regions: number[], tables: number,
    private readonly e: Record<string, Fn>, private readonly act: ActivationSimd,
  ) {
    this.f64 = heap.f64;
    this.col = [0, 1, 2].map((j) => tables + j * TABLE_BYTES);
    this.coef = tables + 3 * TABLE_BYTES;
    this.out = this.coef + 3 * MAX_PLANES * 8;
  }

  matrixApplies(C: number): boolean {
    return C % 4 === 0 && C > 0 && C <= MAX_COLS;
  }

  stats(x: Float32Array, span: Span, sums: Float64Array, sqs: Float64Array): boolean {
    return span.S === 1 ? this.matrixStats(x, span, sums, sqs) : this.planeStats(x, span, sums, sqs);
  }

  affine(x: Float32Array, y: Float32Array, span: Span, scale: Float64Array, shift: Float64Array, act: BnAct): boolean {
    return span.S === 1 ? this.matrixAffine(x, y, span, scale, shift, act) : act === null && this.planeAffine(x, y, span, scale, shift);
  }

  gradSums(dz: Float32Array, x: Float32Array, y: Float32Array, act: BnAct, span: Span, mean: Float64Array, out: Sums): boolean {
    return span.S === 1 ? this.matrixGradSums(dz, x, y, act, span, mean, out) : act === null && this.planeGradSums(dz, x, span, mean, out);
  }

  gradApply(dz: Float32Array, x: Float32Array, y: Float32Array, act: BnAct, dx: Float32Array, span: Span, coef: BnGradCoef): boolean {
    return span.S === 1 ? this.matrixGradApply(dz, x, y, act, dx, span, coef) : act === null && this.planeGradApply(dz, x, dx, span, coef);
  }

  /**
   * Calls run(p, n, planes, q0) over the planes of the span: `planes` whole planes of n = S values from plane q0
   * on, or (a plane longer than a chunk, outside the heap) one piece of n values of plane q0; false when whole
   * planes are required and do not fit.
   */
  private overPlanes(
    arrays: Float32Array[], masks: { reads: number; writes: number }, span: Span, whole: boolean,
    run: (p: number[], n: number, planes: number, q0: number) => void,
  ): boolean {
    const { C, S, n0, n1 } = span;
    const perPlanes = allResident(arrays) ? MAX_PLANES : Math.min(MAX_PLANES, Math.floor(CHUNK / S));
    if (perPlanes >= 1) {
      const per = perPlanes * S;
      staged(this.heap, this.regions, arrays, masks, { start: n0 * C * S, end: n1 * C * S, per: { copy: per, direct: per } }, (p, off, len) =>
        run(p, S, len / S, off / S),
      );
      return true;
    }
    if (whole) return false;
    for (let q = n0 * C; q < n1 * C; q++) {
      staged(this.heap, this.regions, arrays, masks, { start: q * S, end: (q + 1) * S, per: { copy: CHUNK, direct: CHUNK } }, (p, _off, len) =>
        run(p, len, 1, q),
      );
    }
    return true;
  }

  /** Fills the per-plane table with `per` values of each plane's channel from the arrays (plane q0 on). */
  private planeTable(q0: number, planes: number, C: number, arrays: ArrayLike<number>[]): void {
    const f64 = this.f64;
    const per = arrays.length;
    for (let j = 0, c = q0 % C, o = this.coef >> 3; j < planes; j++, o += per) {
      for (let i = 0; i < per; i++) f64[o + i] = arrays[i][c];
      if (++c === C) c = 0;
    }
  }

  private planeStats(x: Float32Array, span: Span, sums: Float64Array, sqs: Float64Array): boolean {
    const { C, S, n0 } = span;
    if (S < MIN_PLANE) return false;
    const S8 = S & ~7;
    const f64 = this.f64;
    sums.fill(0, 0, C);
    sqs.fill(0, 0, C);
    // The shift K of each channel: its first value in the span.
    if (this.K.length < C) this.K = new Float64Array(C);
    const K = this.K;
    for (let c = 0; c < C; c++) K[c] = x[(n0 * C + c) * S];
    return this.overPlanes([x], { reads: 1, writes: 0 }, span, true, (p, _n, planes, q0) => {
      this.planeTable(q0, planes, C, [K]);
      this.e.planeStats(p[0], S8, S, planes, this.coef, this.out);
      for (let j = 0, c = q0 % C, q = this.out >> 3, o = q0 * S; j < planes; j++, q += 4, o += S) {
        const k = K[c];
        let s0 = f64[q];
        let q0s = f64[q + 2];
        // The tail (S mod 8 values) goes to the first chains, as in the loop.
        for (let i = o + S8; i < o + S; i++) {
          const d = x[i] - k;
          s0 += d;
          q0s += d * d;
        }
        sums[c] += s0 + f64[q + 1];
        sqs[c] += q0s + f64[q + 3];
        if (++c === C) c = 0;
      }
    });
  }

  private planeAffine(x: Float32Array, y: Float32Array, span: Span, scale: Float64Array, shift: Float64Array): boolean {
    if (span.S < MIN_PLANE) return false;
    return this.overPlanes([x, y], { reads: 1, writes: 2 }, span, false, (p, n, planes, q0) => {
      this.planeTable(q0, planes, span.C, [scale, shift]);
      this.e.planeAffine(p[0], p[1], n, planes, this.coef);
    });
  }

  private planeGradSums(dy: Float32Array, x: Float32Array, span: Span, mean: Float64Array, out: Sums): boolean {
    const { C, S } = span;
    if (S < MIN_PLANE) return false;
    const { sumDy, sumDyXc } = out;
    const S4 = S & ~3;
    const f64 = this.f64;
    sumDy.fill(0, 0, C);
    sumDyXc.fill(0, 0, C);
    return this.overPlanes([dy, x], { reads: 3, writes: 0 }, span, true, (p, _n, planes, q0) => {
      this.planeTable(q0, planes, C, [mean]);
      this.e.planeGradSums(p[0], p[1], S4, S, planes, this.coef, this.out);
      for (let j = 0, c = q0 % C, q = this.out >> 3, o = q0 * S; j < planes; j++, q += 8, o += S) {
        const mu = mean[c];
        let a0 = f64[q];
        let b0 = f64[q + 4];
        // The tail (S mod 4 values) goes to the first accumulators, as in the loop.
        for (let i = o + S4; i < o + S; i++) {
          const g = dy[i];
          a0 += g;
          b0 += g * (x[i] - mu);
        }
        sumDy[c] += a0 + f64[q + 1] + f64[q + 2] + f64[q + 3];
        sumDyXc[c] += b0 + f64[q + 5] + f64[q + 6] + f64[q + 7];
        if (++c === C) c = 0;
      }
    });
  }

  private planeGradApply(dy: Float32Array, x: Float32Array, dx: Float32Array, span: Span, coef: BnGradCoef): boolean {
    if (span.S < MIN_PLANE) return false;
    return this.overPlanes([dy, x, dx], { reads: 3, writes: 4 }, span, false, (p, n, planes, q0) => {
      this.planeTable(q0, planes, span.C, [coef.a, coef.b, coef.k]);
      this.e.planeGradAffine(p[0], p[1], p[2], n, planes, this.coef);
    });
  }

  /** Copies the first C values of each array into column tables 0, 1, ... (TypedArray.set: a memcpy, or a conversion loop in C++). */
  private setCols(C: number, a: Float32Array | Float64Array, b?: Float64Array, k?: Float64Array): void {
    const f64 = this.f64;
    f64.set(a.subarray(0, C), this.col[0] >> 3);
    if (b) f64.set(b.subarray(0, C), this.col[1] >> 3);
    if (k) f64.set(k.subarray(0, C), this.col[2] >> 3);
  }

  /** Column tables 1 and 2 (the running sums) to zero. */
  private zeroSums(C: number): void {
    this.f64.fill(0, this.col[1] >> 3, (this.col[1] >> 3) + C);
    this.f64.fill(0, this.col[2] >> 3, (this.col[2] >> 3) + C);
  }

  private readSums(C: number, a: Float64Array, b: Float64Array): void {
    a.set(this.f64.subarray(this.col[1] >> 3, (this.col[1] >> 3) + C));
    b.set(this.f64.subarray(this.col[2] >> 3, (this.col[2] >> 3) + C));
  }

  /** Rows [n0, n1) of the arrays through `run`: one call in the heap (or chunks of `direct` values), chunks of whole rows otherwise. */
  private rows(
    arrays: Float32Array[], masks: { reads: number; writes: number }, span: Span, direct: number, run: (p: number[], len: number) => void,
  ): void {
    const { C, n0, n1 } = span;
    const per = { copy: Math.floor(CHUNK / C) * C, direct };
    staged(this.heap, this.regions, arrays, masks, { start: n0 * C, end: n1 * C, per }, (p, _off, len) => run(p, len));
  }

  private matrixStats(x: Float32Array, span: Span, sums: Float64Array, sqs: Float64Array): boolean {
    const { C, n0 } = span;
    if (!this.matrixApplies(C)) return false;
    this.setCols(C, x.subarray(n0 * C, n0 * C + C));
    this.zeroSums(C);
    this.rows([x], { reads: 1, writes: 0 }, span, Infinity, (p, len) => this.call(this.e.matrixStats, [p[0]], len, C));
    this.readSums(C, sums, sqs);
    return true;
  }

  private matrixAffine(x: Float32Array, y: Float32Array, span: Span, scale: Float64Array, shift: Float64Array, act: BnAct): boolean {
    const C = span.C;
    if (!this.matrixApplies(C)) return false;
    const run = act === 'relu' ? this.e.matrixAffine_relu : this.e.matrixAffine_none;
    this.setCols(C, scale, shift);
    // With sigmoid, chunk by chunk even in the heap: its pass then finds the chunk in cache.
    const direct = act === 'sigmoid' ? Math.floor(CHUNK / C) * C : Infinity;
    this.rows([x, y], { reads: 1, writes: 2 }, span, direct, (p, len) => {
      this.call(run, p, len, C);
      if (act === 'sigmoid') this.act.sigmoidAt(p[1], p[1], len);
    });
    return true;
  }

  /** The operands of a matrix backward kernel: dz, x, then y when an activation reads it. */
  private gradArrays(dz: Float32Array, x: Float32Array, y: Float32Array, act: BnAct): Float32Array[] {
    return act === null ? [dz, x] : [dz, x, y];
  }

  private matrixGradSums(dz: Float32Array, x: Float32Array, y: Float32Array, act: BnAct, span: Span, mean: Float64Array, out: Sums): boolean {
    const C = span.C;
    if (!this.matrixApplies(C)) return false;
    const run = this.e[SUMS[act ?? 'none']];
    this.setCols(C, mean);
    this.zeroSums(C);
    this.rows(this.gradArrays(dz, x, y, act), { reads: 7, writes: 0 }, span, Infinity, (p, len) => this.call(run, p, len, C));
    this.readSums(C, out.sumDy, out.sumDyXc);
    return true;
  }

  private matrixGradApply(dz: Float32Array, x: Float32Array, y: Float32Array, act: BnAct, dx: Float32Array, span: Span, coef: BnGradCoef): boolean {
    const C = span.C;
    if (!this.matrixApplies(C)) return false;
    const run = this.e[APPLY[act ?? 'none']];
    this.setCols(C, coef.a, coef.b, coef.k);
    const arrays = [...this.gradArrays(dz, x, y, act), dx];
    const d = arrays.length - 1;
    this.rows(arrays, { reads: (1 << d) - 1, writes: 1 << d }, span, Infinity, (p, len) => this.call(run, p, len, C));
    return true;
  }

  /** A matrix kernel on the data operands' addresses p, over len values of rows of C, with the three column tables. */
  private call(run: Fn, p: number[], len: number, C: number): void {
    const t = this.col[0];
    if (p.length === 1) run(p[0], len, C, t);
    else if (p.length === 2) run(p[0], p[1], len, C, t);
    else if (p.length === 3) run(p[0], p[1], p[2], len, C, t);
    else run(p[0], p[1], p[2], p[3], len, C, t);
  }

  matrixGrad(
    dz: Float32Array, x: Float32Array, y: Float32Array, act: BnAct, dx: Float32Array | null,
    span: Span & { mean: Float64Array }, out: Sums, coefficients: () => BnGradCoef,
  ): boolean {
    const { C, n0, n1, mean } = span;
    if (!this.matrixApplies(C)) return false;
    const inputs = this.gradArrays(dz, x, y, act);
    const arrays = dx === null ? inputs : [...inputs, dx];
    const d = inputs.length;
    // With an activation and dx, the sums pass leaves dy in dx and the dx pass (gradApply_none) runs in place on it.
    const keep = act !== null && dx !== null;
    const sums = this.e[keep ? KEEP[act ?? 'none'] : SUMS[act ?? 'none']];
    const apply = this.e.matrixGradApply_none;
    /** The sums pass, and with `second` the coefficients and (when dx is given) the dx pass, on one chunk. */
    const passes = (p: number[], len: number, second: boolean) => {
      this.call(sums, keep ? p : p.slice(0, d), len, C);
      if (!second) return;
      this.readSums(C, out.sumDy, out.sumDyXc);
      const coef = coefficients();
      if (dx === null) return;
      this.setCols(C, coef.a, coef.b, coef.k);
      this.call(apply, [p[keep ? d : 0], p[1], p[d]], len, C);
    };
    this.setCols(C, mean);
    this.zeroSums(C);
    const masks = { reads: (1 << d) - 1, writes: dx === null ? 0 : 1 << d };
    if ((n1 - n0) * C <= Math.floor(CHUNK / C) * C || allResident(arrays)) {
      // One chunk (or the heap itself): operands staged once for both passes.
      this.rows(arrays, masks, span, Infinity, (p, len) => passes(p, len, true));
      return true;
    }
    // Rows over several chunks: the sums pass over all of them (dy left in dx), then the dx pass.
    this.rows(arrays, masks, span, Infinity, (p, len) => passes(p, len, false));
    this.readSums(C, out.sumDy, out.sumDyXc);
    const coef = coefficients();
    if (dx === null) return true;
    this.setCols(C, coef.a, coef.b, coef.k);
    this.rows(keep ? [dx, x, dx] : [dz, x, dx], { reads: 3, writes: 4 }, span, Infinity, (p, len) => this.call(apply, p, len, C));
    return true;
  }
}
