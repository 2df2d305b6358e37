// WebAssembly SIMD BatchNorm kernels for (N, C) inputs, with ReLU or sigmoid fused into the affine map and the backward
// (and the sums of Linear's and Conv2d's bias gradients).
//
// Why: an (N, C) input is a row-major matrix whose channels are columns, so the plane kernels of simd.ts (which
// need >= 32 values per channel and sample) never apply, and V8 runs the column loops of batchnorm.ts scalar at
// ~2-3 ns per element: BN was a fifth of the MLP workloads W1/W2 and W5's eval affine ~2.7 ns per element. Here
// a row is processed four columns at a time, the per-column coefficients and sums living in float64 arrays in the
// module's memory (each column keeps its own running sum, in row order, as the loops do).
// Every kernel computes in float64 lanes and rounds once, in the order of the plain loops of batchnorm.ts, so the
// results are bit-identical to those loops followed by the separate activation op (sigmoid: a pass over the chunk
// while it is in the module's memory, with the instructions of simd.ts's sigmoid). Fusing the activation saves its
// pass over the tensor, its output tensor and, in the backward, the materialized gradient before the activation;
// when the rows fit one chunk the backward copies them in once for its sums and its dx (matrixGradSimd).
// Rows are copied into the module's memory in chunks; C must be a multiple of 4 (else the loops run).

import {
  buildModule,
  Consts,
  F32X4_DEMOTE_F64X2_ZERO,
  F64X2_ADD,
  F64X2_MUL,
  F64X2_PROMOTE_LOW_F32X4,
  F64X2_SPLAT,
  F64X2_SUB,
  f64Const,
  I32,
  I32_ADD,
  I32_GE_U,
  I32_SHL,
  I32X4_NEG,
  I32X4_SHR_S,
  i32Const,
  localGet,
  localSet,
  localTee,
  shuffle,
  simd,
  uleb,
  V128,
  V128_AND,
  V128_ANDNOT,
  v128Load,
  v128Load64Zero,
  v128Store64Lane0,
} from './wasm/asm.js';
import { SIGMOID_LOCALS, sigmoidInPlace } from './wasm/sigmoid.js';

/** The activation fused after BatchNorm (null: none). */
export type BnAct = 'relu' | 'sigmoid' | null;

/** Floats per data region; rows are copied in chunks of at most this many values. */
const CHUNK = 32768;
/** Most columns the per-column arrays hold; wider inputs run the loops. */
const MAXC = 4096;
/** Byte addresses of the three data regions and of the six per-column float64 arrays. */
const REGION = [0, CHUNK * 4, 2 * CHUNK * 4];
const COLS = 3 * CHUNK * 4;
const col = (j: number) => COLS + j * MAXC * 8;
const PAGES = Math.ceil((COLS + 6 * MAXC * 8) / 65536);

// Parameters of every kernel: p (byte address of the first row in region 0), n (values: rows * C), C.
const P = 0;
const N = 1;
const NC = 2;
// Then i32 locals END, ROW_END, CB (byte offset into the column arrays), then v128 locals.
const END = 3;
const ROW_END = 4;
const CB = 5;
const V = 6; // first v128 local

/** The lanes 0-1 of a and of b, as one f32x4: the two demoted halves of a step back together. */
const JOIN = shuffle([0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23]);
/** Lanes 2-3 of a v128 moved to lanes 0-1. */
const HIGH = shuffle([8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15]);
const V128_STORE_AT = (offset: number) => [...simd(0x0b), 2, ...uleb(offset)];

/** Two f32 of data region r at p, half h (0: lanes 0-1, 1: lanes 2-3 of the step), promoted to f64x2. */
const data2 = (r: number, h: number) => [...localGet(P), ...v128Load64Zero(REGION[r] + 8 * h), ...F64X2_PROMOTE_LOW_F32X4];
/** Four f32 of data region r at p. */
const data4 = (r: number) => [...localGet(P), ...v128Load(REGION[r])];
/** The f64x2 of column array j for half h of the step. */
const col2 = (j: number, h: number) => [...localGet(CB), ...v128Load(col(j) + 16 * h)];
/** Column array j, half h += value. */
const colAdd = (j: number, h: number, value: number[]) => [...localGet(CB), ...col2(j, h), ...value, ...F64X2_ADD, ...V128_STORE_AT(col(j) + 16 * h)];

/**
 * A kernel over n values of rows of C at p: `step` runs for every 4 columns with P at the values and CB at
 * their column-array offset. Rows restart CB at 0.
 */
function rowsLoop(step: number[]): number[] {
  const loop = (end: number, body: number[]) => [
    0x02, 0x40, 0x03, 0x40, ...localGet(P), ...localGet(end), ...I32_GE_U, 0x0d, 1, ...body, 0x0c, 0, 0x0b, 0x0b,
  ];
  const inc = (l: number, v: number) => [...localGet(l), ...i32Const(v), ...I32_ADD, ...localSet(l)];
  return [
    ...localGet(P), ...localGet(N), ...i32Const(2), ...I32_SHL, ...I32_ADD, ...localSet(END),
    ...loop(END, [
      ...localGet(P), ...localGet(NC), ...i32Const(2), ...I32_SHL, ...I32_ADD, ...localSet(ROW_END),
      ...i32Const(0), ...localSet(CB),
      ...loop(ROW_END, [...step, ...inc(P, 16), ...inc(CB, 32)]),
    ]),
  ];
}

/** One row-loop kernel with `scratch` v128 locals V, V+1, ... and the given step. */
function kernel(name: string, scratch: number, step: number[]) {
  return { name, params: [I32, I32, I32], locals: [[3, I32], [scratch, V128]], body: [...rowsLoop(step), 0x0b] };
}

/** stats: region 0 holds x; col 0 the shift K; cols 1, 2 += (x - K), (x - K)^2 per column. */
const statsKernel = kernel(
  'stats',
  1,
  [0, 1].flatMap((h) => [
    ...data2(0, h), ...col2(0, h), ...F64X2_SUB, ...localSet(V),
    ...colAdd(1, h, localGet(V)),
    ...colAdd(2, h, [...localGet(V), ...localGet(V), ...F64X2_MUL]),
  ]),
);

/** affine: region 0 = f32(x * col0 + col1), then relu on the bits if asked (as reluInto), in place. */
const affineKernel = (relu: boolean, name: string) =>
  kernel(name, 1, [
    ...localGet(P),
    ...[0, 1].flatMap((h) => [...data2(0, h), ...col2(0, h), ...F64X2_MUL, ...col2(1, h), ...F64X2_ADD, ...F32X4_DEMOTE_F64X2_ZERO]),
    ...JOIN,
    ...(relu ? [...localSet(V), ...localGet(V), ...localGet(V), ...i32Const(31), ...I32X4_SHR_S, ...V128_ANDNOT] : []),
    ...V128_STORE_AT(REGION[0]),
  ]);

/**
 * sigmoid over region 0 in place (n values rounded up to a step of sigmoidInPlace; the few past it land in
 * region 1's first slots, unused by the affine map). A pass of its own rather than fused into the affine step:
 * unrolled over several vectors it runs 2.2 -> 1.5 ns per value, which needs whole vectors, not 4 columns of a row.
 */
const sigmoidConsts = new Consts(V + SIGMOID_LOCALS);
/** Built first: it registers the constants that setup() then initializes. */
const sigmoidLoop = sigmoidInPlace(P, END, V, sigmoidConsts);
const sigmoidKernel = {
  name: 'sigmoid',
  params: [I32, I32, I32],
  locals: [[3, I32], [SIGMOID_LOCALS + sigmoidConsts.count, V128]],
  body: [
    ...localGet(P), ...localGet(N), ...i32Const(2), ...I32_SHL, ...I32_ADD, ...localSet(END),
    ...sigmoidConsts.setup(),
    ...sigmoidLoop,
    0x0b,
  ],
};

/**
 * The gradient before the activation for half h of the step, as f64x2 of float32-rounded values, from the
 * output gradient dz (region 0) and the activation's output y (region 2): dz; relu: dz where y > 0 (on bits, as
 * reluGradInto; local V holds the masked f32x4, set by `actGradSetup`); sigmoid: f32((dz * y) * (1 - y)).
 */
function actGrad(act: BnAct, h: number): number[] {
  if (act === 'relu') return [...localGet(V), ...(h === 1 ? [...localGet(V), ...HIGH] : []), ...F64X2_PROMOTE_LOW_F32X4];
  if (act === 'sigmoid') {
    // y loaded once (kept in local V + 2 for 1 - y).
    return [
      ...data2(0, h), ...data2(2, h), ...localTee(V + 2), ...F64X2_MUL, ...f64Const(1), ...F64X2_SPLAT, ...localGet(V + 2), ...F64X2_SUB,
      ...F64X2_MUL, ...F32X4_DEMOTE_F64X2_ZERO, ...F64X2_PROMOTE_LOW_F32X4,
    ];
  }
  return data2(0, h);
}
const actGradSetup = (act: BnAct) =>
  act === 'relu' ? [...data4(0), ...data4(2), ...I32X4_NEG, ...i32Const(31), ...I32X4_SHR_S, ...V128_AND, ...localSet(V)] : [];

/**
 * gradSums: col 1 += dy, col 2 += dy * (x - col 0), x in region 1. With `keep`, dy (float32) also replaces dz in
 * region 0, so that gradApply_none can follow on the same data without copying it in again or re-deriving dy.
 */
const gradSumsKernel = (act: BnAct, name: string, keep = false) =>
  kernel(name, 3, [
    ...actGradSetup(act),
    ...(keep && act === 'relu' ? [...localGet(P), ...localGet(V), ...V128_STORE_AT(REGION[0])] : []),
    ...[0, 1].flatMap((h) => [
      ...actGrad(act, h), ...localSet(V + 1),
      ...(keep && act === 'sigmoid' ? [...localGet(P), ...localGet(V + 1), ...F32X4_DEMOTE_F64X2_ZERO, ...v128Store64Lane0(REGION[0] + 8 * h)] : []),
      ...colAdd(1, h, localGet(V + 1)),
      ...colAdd(2, h, [...localGet(V + 1), ...data2(1, h), ...col2(0, h), ...F64X2_SUB, ...F64X2_MUL]),
    ]),
  ]);

/** gradApply: region 0 = f32(col0 * dy + col1 * x + col2), in place over dz. */
const gradApplyKernel = (act: BnAct, name: string) =>
  kernel(name, 3, [
    ...actGradSetup(act),
    ...localGet(P),
    ...[0, 1].flatMap((h) => [
      ...col2(0, h), ...actGrad(act, h), ...F64X2_MUL, ...col2(1, h), ...data2(1, h), ...F64X2_MUL, ...F64X2_ADD,
      ...col2(2, h), ...F64X2_ADD, ...F32X4_DEMOTE_F64X2_ZERO,
    ]),
    ...JOIN,
    ...V128_STORE_AT(REGION[0]),
  ]);

/** colSums: col 0 += x (region 0) per column; Linear's bias gradient. */
const colSumsKernel = kernel('colSums', 0, [0, 1].flatMap((h) => colAdd(0, h, data2(0, h))));

/**
 * planeSums: per plane of C floats (C a multiple of 4) in region 0, the four running sums of conv.ts's planeSums
 * loop (s_j over the values at j mod 4) in float64, stored as 4 float64 per plane from the column arrays' start.
 */
const planeSumsKernel = {
  name: 'planeSums',
  params: [I32, I32, I32],
  locals: [[3, I32], [2, V128]],
  body: [
    ...localGet(P), ...localGet(N), ...i32Const(2), ...I32_SHL, ...I32_ADD, ...localSet(END),
    ...i32Const(COLS), ...localSet(CB),
    0x02, 0x40, 0x03, 0x40, ...localGet(P), ...localGet(END), ...I32_GE_U, 0x0d, 1,
    ...localGet(P), ...localGet(NC), ...i32Const(2), ...I32_SHL, ...I32_ADD, ...localSet(ROW_END),
    ...f64Const(0), ...F64X2_SPLAT, ...localSet(V), ...f64Const(0), ...F64X2_SPLAT, ...localSet(V + 1),
    0x02, 0x40, 0x03, 0x40, ...localGet(P), ...localGet(ROW_END), ...I32_GE_U, 0x0d, 1,
    ...[0, 1].flatMap((h) => [...localGet(V + h), ...data2(0, h), ...F64X2_ADD, ...localSet(V + h)]),
    ...localGet(P), ...i32Const(16), ...I32_ADD, ...localSet(P),
    0x0c, 0, 0x0b, 0x0b,
    ...localGet(CB), ...localGet(V), ...V128_STORE_AT(0), ...localGet(CB), ...localGet(V + 1), ...V128_STORE_AT(16),
    ...localGet(CB), ...i32Const(32), ...I32_ADD, ...localSet(CB),
    0x0c, 0, 0x0b, 0x0b,
    0x0b,
  ],
};

const ACTS: BnAct[] = [null, 'relu', 'sigmoid'];
const actName = (a: BnAct) => a ?? 'none';

const moduleBytes = buildModule(
  [
    statsKernel,
    colSumsKernel,
    planeSumsKernel,
    affineKernel(false, 'affine_none'),
    affineKernel(true, 'affine_relu'),
    sigmoidKernel,
    ...ACTS.map((a) => gradSumsKernel(a, `gradSums_${actName(a)}`)),
    ...ACTS.map((a) => gradSumsKernel(a, `gradSumsKeep_${actName(a)}`, true)),
    ...ACTS.map((a) => gradApplyKernel(a, `gradApply_${actName(a)}`)),
  ],
  PAGES,
);

type Fn = (p: number, n: number, C: number) => void;
interface Instance {
  stats: Fn;
  colSums: Fn;
  planeSums: Fn;
  affine: { none: Fn; relu: Fn };
  sigmoid: Fn;
  gradSums: Record<string, Fn>;
  gradSumsKeep: Record<string, Fn>;
  gradApply: Record<string, Fn>;
  mem: Float32Array;
  cols: Float64Array[];
  /** All six column arrays as one (planeSums' output). */
  colsAll: Float64Array;
}

function instantiate(): Instance | null {
  try {
    if (typeof WebAssembly === 'undefined' || !WebAssembly.validate(moduleBytes)) return null;
    const e = new WebAssembly.Instance(new WebAssembly.Module(moduleBytes)).exports;
    const buf = (e.mem as WebAssembly.Memory).buffer;
    const byAct = (prefix: string) => Object.fromEntries(ACTS.map((a) => [actName(a), e[`${prefix}_${actName(a)}`] as Fn]));
    return {
      stats: e.stats as Fn,
      colSums: e.colSums as Fn,
      planeSums: e.planeSums as Fn,
      affine: { none: e.affine_none as Fn, relu: e.affine_relu as Fn },
      sigmoid: e.sigmoid as Fn,
      gradSums: byAct('gradSums'),
      gradSumsKeep: byAct('gradSumsKeep'),
      gradApply: byAct('gradApply'),
      mem: new Float32Array(buf),
      cols: [0, 1, 2, 3, 4, 5].map((j) => new Float64Array(buf, col(j), MAXC)),
      colsAll: new Float64Array(buf, COLS, 6 * MAXC),
    };
  } catch {
    return null;
  }
}

const wasm = instantiate();

/** True when the (N, C) kernels apply: WebAssembly SIMD present and C a multiple of 4 within the column arrays. */
export function matrixSimdApplies(C: number): boolean {
  return wasm !== null && C % 4 === 0 && C > 0 && C <= MAXC;
}

/** Rows [n0, n1) of C columns in chunks: run(r0, rows, off) with off = r0 * C, the chunk's first value. */
function chunks(C: number, n0: number, n1: number, run: (rows: number, off: number) => void): void {
  const per = Math.floor(CHUNK / C);
  for (let r = n0; r < n1; r += per) run(Math.min(per, n1 - r), r * C);
}

/** Copies the first C values of each array into column arrays 0, 1, ... */
function setCols(C: number, ...arrays: ArrayLike<number>[]): void {
  arrays.forEach((a, j) => {
    const dst = wasm!.cols[j];
    for (let c = 0; c < C; c++) dst[c] = a[c];
  });
}

/**
 * Column sums over rows [n0, n1): sums[c] = sum(x - K_c), sqs[c] = sum((x - K_c)^2), K_c = x[n0, c], each
 * column in row order (batchnorm.ts's matrixStats). False (nothing written) when the kernel does not apply.
 */
export function matrixStatsSimd(x: Float32Array, C: number, n0: number, n1: number, sums: Float64Array, sqs: Float64Array): boolean {
  if (!matrixSimdApplies(C)) return false;
  const { stats, mem, cols } = wasm!;
  setCols(C, x.subarray(n0 * C, n0 * C + C));
  cols[1].fill(0, 0, C);
  cols[2].fill(0, 0, C);
  chunks(C, n0, n1, (rows, off) => {
    mem.set(x.subarray(off, off + rows * C));
    stats(0, rows * C, C);
  });
  for (let c = 0; c < C; c++) {
    sums[c] = cols[1][c];
    sqs[c] = cols[2][c];
  }
  return true;
}

/** y = act(f32(x * scale[c] + shift[c])) over rows [n0, n1). False (nothing written) when the kernel does not apply. */
export function matrixAffineSimd(
  x: Float32Array, y: Float32Array, C: number, n0: number, n1: number, scale: Float64Array, shift: Float64Array, act: BnAct,
): boolean {
  if (!matrixSimdApplies(C)) return false;
  const { mem, sigmoid } = wasm!;
  const run = act === 'relu' ? wasm!.affine.relu : wasm!.affine.none;
  setCols(C, scale, shift);
  chunks(C, n0, n1, (rows, off) => {
    const len = rows * C;
    mem.set(x.subarray(off, off + len));
    run(0, len, C);
    if (act === 'sigmoid') sigmoid(0, len, C);
    y.set(mem.subarray(0, len), off);
  });
  return true;
}

/** Copies rows [off, off + len) of dz, x and (for an activation) y into regions 0, 1, 2. */
function loadGrad(dz: Float32Array, x: Float32Array, y: Float32Array, act: BnAct, off: number, len: number): void {
  const { mem } = wasm!;
  mem.set(dz.subarray(off, off + len));
  mem.set(x.subarray(off, off + len), CHUNK);
  if (act !== null) mem.set(y.subarray(off, off + len), 2 * CHUNK);
}

/**
 * Backward sums over rows [n0, n1) with dy = the gradient before the activation (dz itself without one; y is the
 * activation's output): sumDy[c] = sum(dy), sumDyXc[c] = sum(dy * (x - mean[c])), as matrixGradSums on the
 * materialized dy. False (nothing written) when the kernel does not apply.
 */
export function matrixGradSumsSimd(
  dz: Float32Array, x: Float32Array, y: Float32Array, act: BnAct,
  range: { C: number; n0: number; n1: number; mean: Float64Array }, sumDy: Float64Array, sumDyXc: Float64Array,
): boolean {
  const { C, n0, n1, mean } = range;
  if (!matrixSimdApplies(C)) return false;
  const { cols } = wasm!;
  const run = wasm!.gradSums[actName(act)];
  setCols(C, mean);
  cols[1].fill(0, 0, C);
  cols[2].fill(0, 0, C);
  chunks(C, n0, n1, (rows, off) => {
    loadGrad(dz, x, y, act, off, rows * C);
    run(0, rows * C, C);
  });
  for (let c = 0; c < C; c++) {
    sumDy[c] = cols[1][c];
    sumDyXc[c] = cols[2][c];
  }
  return true;
}

/**
 * dx = f32(a[c] * dy + b[c] * x + k[c]) over rows [n0, n1), written (not added), dy as in matrixGradSumsSimd.
 * False (nothing written) when the kernel does not apply.
 */
export function matrixGradApplySimd(
  dz: Float32Array, x: Float32Array, y: Float32Array, act: BnAct, dx: Float32Array,
  range: { C: number; n0: number; n1: number }, coef: { a: Float64Array; b: Float64Array; k: Float64Array },
): boolean {
  const { C, n0, n1 } = range;
  if (!matrixSimdApplies(C)) return false;
  const { mem } = wasm!;
  const run = wasm!.gradApply[actName(act)];
  setCols(C, coef.a, coef.b, coef.k);
  chunks(C, n0, n1, (rows, off) => {
    const len = rows * C;
    loadGrad(dz, x, y, act, off, len);
    run(0, len, C);
    dx.set(mem.subarray(0, len), off);
  });
  return true;
}

/**
 * sums[c] = sum over rows [n0, n1) of x[r, c], in float64, each column in row order (the plain loop's order, so
 * bit-identical to it). False (nothing written) when the kernel does not apply.
 */
export function columnSumsSimd(x: Float32Array, C: number, n0: number, n1: number, sums: Float64Array): boolean {
  if (!matrixSimdApplies(C)) return false;
  const { colSums, mem, cols } = wasm!;
  cols[0].fill(0, 0, C);
  chunks(C, n0, n1, (rows, off) => {
    mem.set(x.subarray(off, off + rows * C));
    colSums(0, rows * C, C);
  });
  for (let c = 0; c < C; c++) sums[c] = cols[0][c];
  return true;
}

/**
 * s[c] += sum of plane (b, c) of g (N, C, plane) over b, each plane's sum formed as conv.ts's planeSums loop forms
 * it (four accumulators by index mod 4, added left to right), so the result is bit-identical to that loop. False
 * (nothing written) when the kernel does not apply: planes not a multiple of 4 values, or over a chunk.
 */
export function planeSumsSimd(g: Float32Array, N: number, C: number, plane: number, s: Float64Array): boolean {
  if (wasm === null || plane % 4 !== 0 || plane === 0 || plane > CHUNK) return false;
  const { planeSums, mem, colsAll } = wasm;
  const total = N * C;
  const per = Math.min(Math.floor(CHUNK / plane), colsAll.length / 4);
  for (let q0 = 0; q0 < total; q0 += per) {
    const planes = Math.min(per, total - q0);
    mem.set(g.subarray(q0 * plane, (q0 + planes) * plane));
    planeSums(0, planes * plane, plane);
    for (let q = 0; q < planes; q++) {
      const o = 4 * q;
      s[(q0 + q) % C] += colsAll[o] + colsAll[o + 1] + colsAll[o + 2] + colsAll[o + 3];
    }
  }
  return true;
}

/**
 * The whole fused backward over rows [n0, n1): the sums of matrixGradSumsSimd, then `coefficients()` (the caller
 * turns the sums into a, b, k), then dx as matrixGradApplySimd (skipped when dx is null). When the rows fit one
 * chunk the data is copied in once and dy, derived once, stays in the module's memory for the dx pass (W1 and W2's
 * layers fit); otherwise the two functions run one after the other. False (nothing done) when the kernels do not apply.
 */
export function matrixGradSimd(
  dz: Float32Array, x: Float32Array, y: Float32Array, act: BnAct, dx: Float32Array | null,
  range: { C: number; n0: number; n1: number; mean: Float64Array }, sumDy: Float64Array, sumDyXc: Float64Array,
  coefficients: () => { a: Float64Array; b: Float64Array; k: Float64Array },
): boolean {
  const { C, n0, n1, mean } = range;
  if (!matrixSimdApplies(C)) return false;
  const len = (n1 - n0) * C;
  if (len > CHUNK) {
    matrixGradSumsSimd(dz, x, y, act, range, sumDy, sumDyXc);
    const coef = coefficients();
    if (dx) matrixGradApplySimd(dz, x, y, act, dx, range, coef);
    return true;
  }
  const { mem, cols } = wasm!;
  const off = n0 * C;
  setCols(C, mean);
  cols[1].fill(0, 0, C);
  cols[2].fill(0, 0, C);
  loadGrad(dz, x, y, act, off, len);
  wasm!.gradSumsKeep[actName(act)](0, len, C);
  for (let c = 0; c < C; c++) {
    sumDy[c] = cols[1][c];
    sumDyXc[c] = cols[2][c];
  }
  const coef = coefficients();
  if (dx) {
    setCols(C, coef.a, coef.b, coef.k);
    wasm!.gradApply.none(0, len, C);
    dx.set(mem.subarray(0, len), off);
  }
  return true;
}
