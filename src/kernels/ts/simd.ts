// WebAssembly SIMD kernels for loops that V8 runs slowly (sigmoid and its gradient, relu and its gradient, relu fused
// with 2x2 max pooling, the SGD update, BatchNorm's affine map and input gradient), assembled at load by wasm/asm.ts from the named instructions below; each
// falls back to a plain loop where WebAssembly SIMD is missing.
//
// Why: V8 compiles a float32 loop to scalar code, ~2 ns per element even for w -= lr * g, and Math.exp costs
// ~15 ns per call (sigmoid was a quarter of the paper's net, W1; exp polynomials in JavaScript did not beat it).
// Data is copied into the module's memory in chunks (memcpy, ~0.1 ns per element), computed 2 or 4 lanes at a
// time and copied back. No build step and no binary blob: the bytes come from this file.
// sigmoid works in float32 (within 2 ulps); sigmoidGrad, axpy and the BatchNorm kernels work in float64 lanes and round once, exactly as
// the JavaScript loops they replace, so their results are bit-identical to those; the relu and pooling kernels
// work on float bits and match their loops exactly.

import {
  buildModule,
  Consts,
  EVENS,
  F32X4_DEMOTE_F64X2_ZERO,
  F64,
  f64Const,
  F64X2_ADD,
  F64X2_MUL,
  F64X2_PROMOTE_LOW_F32X4,
  F64X2_SPLAT,
  F64X2_SUB,
  I32,
  I32_ADD,
  I32_GE_U,
  I32_LT_S,
  I32_MUL,
  I32_SHL,
  I32_SHR_S,
  i32Const,
  I32X4_ADD,
  I32X4_EQ,
  I32X4_GT_S,
  I32X4_NEG,
  I32X4_SHR_S,
  I32X4_SPLAT,
  I32X4_SUB,
  localGet,
  localSet,
  localTee,
  ODDS,
  pairLoop,
  quadLoop,
  shuffle,
  simd,
  uleb,
  V128,
  V128_AND,
  V128_ANDNOT,
  V128_BITSELECT,
  V128_LOAD,
  V128_STORE,
  V128_STORE_16,
  v128Load,
  v128Load64Zero,
  v128Store64Lane0,
} from './wasm/asm.js';
import { SIGMOID_LOCALS, sigmoidInPlace } from './wasm/sigmoid.js';

// Locals of sigmoid(ptr, n): params 0-1, then one i32 and the v128 working values from X on.
const PTR = 0;
const N = 1;
const END = 2;
const X = 3;

const sigmoidConsts = new Consts(X + SIGMOID_LOCALS);
/** Built first: it registers the constants that setup() then initializes. */
const sigmoidLoop = sigmoidInPlace(PTR, END, X, sigmoidConsts);

const sigmoidBody = [
  ...localGet(PTR), ...localGet(N), ...i32Const(2), ...I32_SHL, ...I32_ADD, ...localSet(END),
  ...sigmoidConsts.setup(),
  ...sigmoidLoop,
  0x0b, // end function
];

/** relu(x, n): x = x & ~(x >> 31) on the float bits: a set sign bit gives +0 (as ops/activation.ts's loop). */
const reluBody = quadLoop([0], 2, [...localGet(0), ...V128_LOAD, ...localGet(0), ...V128_LOAD, ...i32Const(31), ...I32X4_SHR_S, ...V128_ANDNOT]);

/** reluGrad(g, n, y): g = g & ((-y) >> 31) on bits: g where y > 0 (y's bits are >= 0), else +0. */
const reluGradBody = quadLoop([0, 2], 3, [
  ...localGet(0), ...V128_LOAD, ...localGet(2), ...V128_LOAD, ...I32X4_NEG, ...i32Const(31), ...I32X4_SHR_S, ...V128_AND,
]);

/** f32 pair at the pointer in local p plus `offset` bytes, promoted to two f64. */
const pairF64 = (p: number, offset: number) => [...localGet(p), ...v128Load64Zero(offset), ...F64X2_PROMOTE_LOW_F32X4];

/** axpy(w, n, g, alpha): w = f32(w + alpha * g), the product and sum in float64 (as `w[i] -= lr * g[i]` in JS). */
// Locals: w 0, n 1, g 2, alpha 3 (f64), END 4 (i32), ALPHA 5 (v128, alpha in both lanes).
const axpyBody = pairLoop(
  [0, 2],
  4,
  (o) => [...pairF64(0, o), ...pairF64(2, o), ...localGet(5), ...F64X2_MUL, ...F64X2_ADD, ...F32X4_DEMOTE_F64X2_ZERO],
  [...localGet(3), ...F64X2_SPLAT, ...localSet(5)],
);

/** sigmoidGrad(g, n, y): g = f32((g * y) * (1 - y)) in float64, as the JavaScript rule computes it. */
// Locals: g 0, n 1, y 2, END 3 (i32), ONE 4 (v128, 1.0 in both f64 lanes).
const sigmoidGradBody = pairLoop(
  [0, 2],
  3,
  (o) => [...pairF64(0, o), ...pairF64(2, o), ...F64X2_MUL, ...localGet(4), ...pairF64(2, o), ...F64X2_SUB, ...F64X2_MUL, ...F32X4_DEMOTE_F64X2_ZERO],
  [...f64Const(1), ...F64X2_SPLAT, ...localSet(4)],
);

// BatchNorm's kernels loop over the planes of a chunk themselves, with per-plane coefficients in memory (COEF)
// and per-plane sums out (OUTS): one call per 32K-value chunk instead of one per 784-value plane (W4: 4096
// planes, four passes; the per-plane calls and their JavaScript driver were ~1.5 ms of its ~16 ms).
const F64_LOAD = (offset: number) => [0x2b, 3, ...uleb(offset)];
const V128_ZERO = [...simd(0x0c), ...new Array<number>(16).fill(0)];
const BLOCK_LOOP = [0x02, 0x40, 0x03, 0x40];
const NEXT_END = [0x0c, 0, 0x0b, 0x0b]; // br 0, end loop, end block
const add = (p: number, v: number) => [...localGet(p), ...i32Const(v), ...I32_ADD, ...localSet(p)];
/** Runs `body` for idx = 0 .. planes - 1 (idx, planes: i32 locals; idx is 0 at entry). */
const forPlanes = (idx: number, planes: number, body: number[]) => [
  ...BLOCK_LOOP,
  ...localGet(idx), ...localGet(planes), ...I32_GE_U, 0x0d, 1, // br_if 1: done
  ...body,
  ...add(idx, 1),
  ...NEXT_END,
];
/** Until the pointer in local ptrs[0] reaches local end: `step`, then every pointer in ptrs advances `bytes`. */
const forPtr = (ptrs: number[], end: number, bytes: number, step: number[]) => [
  ...BLOCK_LOOP,
  ...localGet(ptrs[0]), ...localGet(end), ...I32_GE_U, 0x0d, 1,
  ...step,
  ...ptrs.flatMap((p) => add(p, bytes)),
  ...NEXT_END,
];
/** local dst = local base + local idx * local bytes (a plane's start). */
const planeAt = (dst: number, base: number, idx: number, bytes: number) => [
  ...localGet(base), ...localGet(idx), ...localGet(bytes), ...I32_MUL, ...I32_ADD, ...localSet(dst),
];
/** local v = (f64 at local p + offset) in both lanes. */
const splatAt = (v: number, p: number, offset: number) => [...localGet(p), ...F64_LOAD(offset), ...F64X2_SPLAT, ...localSet(v)];

/** Bytes between the BN kernels' regions A (dy or x), B (x) and C: one chunk (4 * CHUNK, defined below), reached as offsets from one pointer. */
const REGION = 4 * 32768;
const I32_LT_U = [0x49];
const I32_AND = [0x71];
/** if (local p < local end) { body }: the half-length step after an unrolled loop. */
const ifBelow = (p: number, end: number, body: number[]) => [...localGet(p), ...localGet(end), ...I32_LT_U, 0x04, 0x40, ...body, 0x0b];
/** local end = local p + (local n & mask) * 4 bytes. */
const endAt = (end: number, p: number, n: number, mask: number) => [
  ...localGet(p), ...localGet(n), ...i32Const(mask), ...I32_AND, ...i32Const(2), ...I32_SHL, ...I32_ADD, ...localSet(end),
];

/**
 * affine(x, n, planes, coef): for each of `planes` planes of n values (consecutive in region A, from x), region B
 * = f32(x * a + b) in float64 with the plane's (a, b) at coef + 16 p, as BatchNorm's forward loop
 * (kernels/ts/batchnorm.ts). Eight values per step (one pointer, the output at a fixed offset): ~10% faster than
 * four with a pointer per array. A plane's last step may write up to 7 values past it (the next plane rewrites them).
 */
// Locals: x 0, n 1, planes 2, coef 3; NB 4, IDX 5, PX 6, END 7 (i32); A 8, B 9 (v128).
const affineBody = [
  ...localGet(1), ...i32Const(2), ...I32_SHL, ...localSet(4),
  ...forPlanes(5, 2, [
    ...splatAt(8, 3, 0), ...splatAt(9, 3, 8), ...add(3, 16),
    ...planeAt(6, 0, 5, 4),
    ...localGet(6), ...localGet(4), ...I32_ADD, ...localSet(7),
    ...forPtr([6], 7, 32, [0, 8, 16, 24].flatMap((o) => [
      ...localGet(6), ...pairF64(6, o), ...localGet(8), ...F64X2_MUL, ...localGet(9), ...F64X2_ADD,
      ...F32X4_DEMOTE_F64X2_ZERO, ...v128Store64Lane0(REGION + o),
    ])),
  ]),
  0x0b, // end function
];

/**
 * gradAffine(dy, n, planes, coef): region C = f32(a * dy + b * x + k) in float64, dy in region A (from dy), x in B,
 * (a, b, k) at coef + 24 p, as gradPlane; eight values per step, slack as affine's.
 */
// Locals: dy 0, n 1, planes 2, coef 3; NB 4, IDX 5, P 6, END 7 (i32); A 8, B 9, K 10 (v128).
const gradAffineBody = [
  ...localGet(1), ...i32Const(2), ...I32_SHL, ...localSet(4),
  ...forPlanes(5, 2, [
    ...splatAt(8, 3, 0), ...splatAt(9, 3, 8), ...splatAt(10, 3, 16), ...add(3, 24),
    ...planeAt(6, 0, 5, 4),
    ...localGet(6), ...localGet(4), ...I32_ADD, ...localSet(7),
    ...forPtr([6], 7, 32, [0, 8, 16, 24].flatMap((o) => [
      ...localGet(6),
      ...localGet(8), ...pairF64(6, o), ...F64X2_MUL, ...localGet(9), ...pairF64(6, REGION + o), ...F64X2_MUL, ...F64X2_ADD,
      ...localGet(10), ...F64X2_ADD, ...F32X4_DEMOTE_F64X2_ZERO, ...v128Store64Lane0(2 * REGION + o),
    ])),
  ]),
  0x0b,
];

/**
 * gradSums(dy, n, stride, planes, mu, out): BatchNorm's backward sums over the first n values (n a multiple of 4)
 * of each of `planes` planes `stride` values apart (dy in region A from dy, x in B), four accumulators as
 * bnGradSums's loop: a_j = sum(dy[i]), b_j = sum(dy[i] * (x[i] - mu)) over i = j mod 4, in float64 and in the
 * loop's order, mu at mu + 8 p; stored at out + 64 p as (a0, a1, a2, a3, b0, b1, b2, b3). The caller adds the
 * tail and combines them as the loop does. Eight values per step, then four if n mod 8 = 4.
 */
// Locals: dy 0, n 1, stride 2, planes 3, mu 4, out 5; END 6, IDX 7, P 8, END8 9 (i32);
// MU 10, A01 11, A23 12, B01 13, B23 14, G 15 (v128).
const sumStep = (o: number, a: number, b: number) => [
  ...pairF64(8, o), ...localTee(15), ...localGet(a), ...F64X2_ADD, ...localSet(a),
  ...localGet(15), ...pairF64(8, REGION + o), ...localGet(10), ...F64X2_SUB, ...F64X2_MUL, ...localGet(b), ...F64X2_ADD, ...localSet(b),
];
const gradSumsBody = [
  ...localGet(2), ...i32Const(2), ...I32_SHL, ...localSet(2),
  ...forPlanes(7, 3, [
    ...splatAt(10, 4, 0), ...add(4, 8),
    ...[11, 12, 13, 14].flatMap((v) => [...V128_ZERO, ...localSet(v)]),
    ...planeAt(8, 0, 7, 2),
    ...endAt(6, 8, 1, -1), ...endAt(9, 8, 1, -8),
    ...forPtr([8], 9, 32, [...sumStep(0, 11, 13), ...sumStep(8, 12, 14), ...sumStep(16, 11, 13), ...sumStep(24, 12, 14)]),
    ...ifBelow(8, 6, [...sumStep(0, 11, 13), ...sumStep(8, 12, 14)]),
    ...[11, 12, 13, 14].flatMap((v, i) => [...localGet(5), ...localGet(v), ...simd(0x0b), 2, ...uleb(16 * i)]),
    ...add(5, 64),
  ]),
  0x0b,
];

/**
 * stats(x, n, stride, planes, k, out): BatchNorm's shifted sums over the first n values (n a multiple of 8) of each
 * of `planes` planes `stride` values apart, as bnStats's loop: per block of 8, s0 += ((d0 + d2) + d4) + d6 and
 * s1 += ((d1 + d3) + d5) + d7 with d = x - k (k at k + 8 p), q0 and q1 likewise of d^2, in float64; stored at
 * out + 32 p as (s0, s1, q0, q1). Consecutive pairs (d_2j, d_2j+1) make the two lanes the loop's two chains, so
 * the sums are bit-identical to it once the caller adds the tail and combines them. Why even/odd chains: a pair
 * is one v128.load64_zero and one promote; the loop's former chains (d0..d3, d4..d7) needed a load32_zero and a
 * load32_lane per pair, and the stats pass took 2.15 ms instead of 1.63 ms on (64,64,28,28) (shuffles and
 * conversions share one port). Two blocks per step, then one if n mod 16 = 8.
 */
// Locals: x 0, n 1, stride 2, planes 3, k 4, out 5; END 6, IDX 7, PX 8, END16 9 (i32); K 10, SA 11, QA 12, P0-P3 13-16 (v128).
const sq = (v: number) => [...localGet(v), ...localGet(v), ...F64X2_MUL];
const statsBlock = (o: number) => [
  ...[0, 1, 2, 3].flatMap((j) => [
    ...pairF64(8, o + 8 * j), ...localGet(10), ...F64X2_SUB, ...localSet(13 + j),
  ]),
  ...localGet(11), ...localGet(13), ...localGet(14), ...F64X2_ADD, ...localGet(15), ...F64X2_ADD, ...localGet(16), ...F64X2_ADD,
  ...F64X2_ADD, ...localSet(11),
  ...localGet(12), ...sq(13), ...sq(14), ...F64X2_ADD, ...sq(15), ...F64X2_ADD, ...sq(16), ...F64X2_ADD,
  ...F64X2_ADD, ...localSet(12),
];
const statsBody = [
  ...localGet(2), ...i32Const(2), ...I32_SHL, ...localSet(2),
  ...forPlanes(7, 3, [
    ...splatAt(10, 4, 0), ...add(4, 8),
    ...V128_ZERO, ...localSet(11), ...V128_ZERO, ...localSet(12),
    ...planeAt(8, 0, 7, 2),
    ...endAt(6, 8, 1, -1), ...endAt(9, 8, 1, -16),
    ...forPtr([8], 9, 64, [...statsBlock(0), ...statsBlock(32)]),
    ...ifBelow(8, 6, statsBlock(0)),
    ...localGet(5), ...localGet(11), ...V128_STORE,
    ...localGet(5), ...localGet(12), ...V128_STORE_16,
    ...add(5, 32),
  ]),
  0x0b,
];

/**
 * reluMaxPool2(in, pairs, w, wo, out, arg, base): 2x2 max pooling of relu(x), stride 2, over `pairs` consecutive
 * row pairs of width w at `in` (planes of even height, so row pairs follow each other), four windows per step.
 * Writes the output bits and the flat input index of each window's winner (base = index of in's first value).
 * relu'd bits are non-negative and order as integers like the floats (NaN above +inf), so the first largest wins
 * with integer compares, as in ops/pool.ts's reluMaxPool2d. A row's last step may read past it and write up to 3
 * windows past wo: those land in the next row's slots, written again with the next row, or in the slack after
 * the output regions.
 */
const P_IN = 0, P_PAIRS = 1, P_W = 2, P_WO = 3, P_OUT = 4, P_ARG = 5, P_BASE = 6;
const L_Q = 7, L_G = 8, L_GROUPS = 9, L_PIN = 10, L_PIN2 = 11, L_POUT = 12, L_PARG = 13, L_IDX = 14;
const V_E0 = 15, V_O0 = 16, V_E1 = 17, V_O1 = 18, V_ST = 19, V_SB = 20, V_TOP = 21, V_BOT = 22, V_S = 23, V_LANES = 24;
const reluV = (v: number) => [...localGet(v), ...localGet(v), ...i32Const(31), ...I32X4_SHR_S, ...V128_ANDNOT, ...localSet(v)];
const poolBody = [
  // groups = (wo + 3) >> 2; lanes = (0, 2, 4, 6)
  ...localGet(P_WO), ...i32Const(3), ...I32_ADD, ...i32Const(2), ...I32_SHR_S, ...localSet(L_GROUPS),
  ...simd(0x0c), ...new Uint8Array(Int32Array.of(0, 2, 4, 6).buffer), ...localSet(V_LANES),
  0x02, 0x40, 0x03, 0x40, // block, loop over row pairs q
  ...localGet(L_Q), ...localGet(P_PAIRS), ...I32_LT_S, 0x45, 0x0d, 1, // br_if 1 when !(q < pairs)
  // pin = in + q * 8w; pin2 = pin + 4w; pout = out + 4 q wo; parg = arg + 4 q wo; idx = base + 2 q w
  ...localGet(P_IN), ...localGet(L_Q), ...localGet(P_W), ...I32_MUL, ...i32Const(3), ...I32_SHL, ...I32_ADD, ...localTee(L_PIN),
  ...localGet(P_W), ...i32Const(2), ...I32_SHL, ...I32_ADD, ...localSet(L_PIN2),
  ...localGet(P_OUT), ...localGet(L_Q), ...localGet(P_WO), ...I32_MUL, ...i32Const(2), ...I32_SHL, ...I32_ADD, ...localSet(L_POUT),
  ...localGet(P_ARG), ...localGet(L_Q), ...localGet(P_WO), ...I32_MUL, ...i32Const(2), ...I32_SHL, ...I32_ADD, ...localSet(L_PARG),
  ...localGet(P_BASE), ...localGet(L_Q), ...localGet(P_W), ...I32_MUL, ...i32Const(1), ...I32_SHL, ...I32_ADD, ...localSet(L_IDX),
  ...i32Const(0), ...localSet(L_G),
  0x02, 0x40, 0x03, 0x40, // block, loop over groups of 4 windows
  ...localGet(L_G), ...localGet(L_GROUPS), ...I32_LT_S, 0x45, 0x0d, 1,
  // top row: evens and odds of 8 values, relu'd; bottom row likewise
  ...localGet(L_PIN), ...v128Load(0), ...localGet(L_PIN), ...v128Load(16), ...EVENS, ...localSet(V_E0),
  ...localGet(L_PIN), ...v128Load(0), ...localGet(L_PIN), ...v128Load(16), ...ODDS, ...localSet(V_O0),
  ...localGet(L_PIN2), ...v128Load(0), ...localGet(L_PIN2), ...v128Load(16), ...EVENS, ...localSet(V_E1),
  ...localGet(L_PIN2), ...v128Load(0), ...localGet(L_PIN2), ...v128Load(16), ...ODDS, ...localSet(V_O1),
  ...reluV(V_E0), ...reluV(V_O0), ...reluV(V_E1), ...reluV(V_O1),
  // sT = odd beats even (strictly) in the top row, top = the winner; the same for the bottom row
  ...localGet(V_O0), ...localGet(V_E0), ...I32X4_GT_S, ...localSet(V_ST),
  ...localGet(V_O0), ...localGet(V_E0), ...localGet(V_ST), ...V128_BITSELECT, ...localSet(V_TOP),
  ...localGet(V_O1), ...localGet(V_E1), ...I32X4_GT_S, ...localSet(V_SB),
  ...localGet(V_O1), ...localGet(V_E1), ...localGet(V_SB), ...V128_BITSELECT, ...localSet(V_BOT),
  ...localGet(V_BOT), ...localGet(V_TOP), ...I32X4_GT_S, ...localSet(V_S), // bottom beats top (strictly)
  ...localGet(L_POUT), ...localGet(V_BOT), ...localGet(V_TOP), ...localGet(V_S), ...V128_BITSELECT, ...V128_STORE,
  // winner index: idx + lanes - sT (top) or idx + w + lanes - sB (bottom); a mask of -1 adds one
  ...localGet(L_PARG),
  ...localGet(L_IDX), ...localGet(P_W), ...I32_ADD, ...I32X4_SPLAT, ...localGet(V_LANES), ...I32X4_ADD, ...localGet(V_SB), ...I32X4_SUB,
  ...localGet(L_IDX), ...I32X4_SPLAT, ...localGet(V_LANES), ...I32X4_ADD, ...localGet(V_ST), ...I32X4_SUB,
  ...localGet(V_S), ...V128_BITSELECT, ...V128_STORE,
  // next 4 windows
  ...localGet(L_PIN), ...i32Const(32), ...I32_ADD, ...localSet(L_PIN),
  ...localGet(L_PIN2), ...i32Const(32), ...I32_ADD, ...localSet(L_PIN2),
  ...localGet(L_POUT), ...i32Const(16), ...I32_ADD, ...localSet(L_POUT),
  ...localGet(L_PARG), ...i32Const(16), ...I32_ADD, ...localSet(L_PARG),
  ...localGet(L_IDX), ...i32Const(8), ...I32_ADD, ...localSet(L_IDX),
  ...localGet(L_G), ...i32Const(1), ...I32_ADD, ...localSet(L_G),
  0x0c, 0, 0x0b, 0x0b, // br 0, end loop, end block
  ...localGet(L_Q), ...i32Const(1), ...I32_ADD, ...localSet(L_Q),
  0x0c, 0, 0x0b, 0x0b, 0x0b, // br 0, end loop, end block, end function
];

/**
 * reluMaxPool2Grad(gx, pairs, w, wo, g, arg, base, out): the fresh input gradient of reluMaxPool2 over the same
 * row pairs: gx = g at each window's winner where the window's output is > 0 (relu's gradient), 0 elsewhere,
 * written row by row in full (no zero fill first). For each output row, the top input row is written before the
 * bottom one: a row's last step writes up to 6 values past its end, into the next row, which is written after.
 */
const G_GX = 0, G_W = 2, G_WO = 3, G_G = 4, G_ARG = 5, G_BASE = 6, G_OUT = 7;
const GL_Q = 8, GL_GI = 9, GL_GROUPS = 10, GL_ROW = 11, GL_IDX = 12, GL_OFF = 13;
const GV_GM = 14, GV_J = 15, GV_POS = 16, GV_EV = 17, GV_OD = 18, GV_LANES = 19;
/** One input row (top: rowBytes 0, idx + 0; bottom: rowBytes 4w, idx + w) of output row q, group by group. */
const gradRow = (bottom: boolean) => [
  ...i32Const(0), ...localSet(GL_GI),
  0x02, 0x40, 0x03, 0x40,
  ...localGet(GL_GI), ...localGet(GL_GROUPS), ...I32_LT_S, 0x45, 0x0d, 1,
  // off = 16 gi: byte offset of the group's 4 windows in the per-window arrays
  ...localGet(GL_GI), ...i32Const(4), ...I32_SHL, ...localSet(GL_OFF),
  // gm = g & ((-out) >> 31): g where out > 0 (or NaN), else +0
  ...localGet(G_G), ...localGet(GL_OFF), ...I32_ADD, ...v128Load(0),
  ...localGet(G_OUT), ...localGet(GL_OFF), ...I32_ADD, ...v128Load(0), ...I32X4_NEG, ...i32Const(31), ...I32X4_SHR_S,
  ...V128_AND, ...localSet(GV_GM),
  ...localGet(G_ARG), ...localGet(GL_OFF), ...I32_ADD, ...v128Load(0), ...localSet(GV_J),
  // pos = idx (+ w for the bottom row) + 8 gi + (0, 2, 4, 6): the even inputs of the 4 windows in this row
  ...localGet(GL_IDX), ...(bottom ? [...localGet(G_W), ...I32_ADD] : []), ...localGet(GL_GI), ...i32Const(3), ...I32_SHL, ...I32_ADD,
  ...I32X4_SPLAT, ...localGet(GV_LANES), ...I32X4_ADD, ...localSet(GV_POS),
  ...localGet(GV_J), ...localGet(GV_POS), ...I32X4_EQ, ...localGet(GV_GM), ...V128_AND, ...localSet(GV_EV),
  ...localGet(GV_J), ...localGet(GV_POS), ...i32Const(1), ...I32X4_SPLAT, ...I32X4_ADD, ...I32X4_EQ, ...localGet(GV_GM), ...V128_AND,
  ...localSet(GV_OD),
  // interleave evens and odds back into 8 consecutive inputs at row + 32 gi
  ...localGet(GL_ROW), ...(bottom ? [...localGet(G_W), ...i32Const(2), ...I32_SHL, ...I32_ADD] : []), ...localGet(GL_GI), ...i32Const(5),
  ...I32_SHL, ...I32_ADD, ...localTee(GL_OFF),
  ...localGet(GV_EV), ...localGet(GV_OD), ...shuffle([0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23]), ...V128_STORE,
  ...localGet(GL_OFF), ...localGet(GV_EV), ...localGet(GV_OD), ...shuffle([8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31]),
  ...V128_STORE_16,
  ...localGet(GL_GI), ...i32Const(1), ...I32_ADD, ...localSet(GL_GI),
  0x0c, 0, 0x0b, 0x0b,
];
const poolGradBody = [
  ...localGet(G_WO), ...i32Const(3), ...I32_ADD, ...i32Const(2), ...I32_SHR_S, ...localSet(GL_GROUPS),
  ...simd(0x0c), ...new Uint8Array(Int32Array.of(0, 2, 4, 6).buffer), ...localSet(GV_LANES),
  0x02, 0x40, 0x03, 0x40, // over output rows q
  ...localGet(GL_Q), ...localGet(1), ...I32_LT_S, 0x45, 0x0d, 1,
  // row = gx + 8 q w; idx = base + 2 q w; g, arg, out advance by one output row (4 wo bytes) per q
  ...localGet(G_GX), ...localGet(GL_Q), ...localGet(G_W), ...I32_MUL, ...i32Const(3), ...I32_SHL, ...I32_ADD, ...localSet(GL_ROW),
  ...localGet(G_BASE), ...localGet(GL_Q), ...localGet(G_W), ...I32_MUL, ...i32Const(1), ...I32_SHL, ...I32_ADD, ...localSet(GL_IDX),
  ...gradRow(false),
  ...gradRow(true),
  ...[G_G, G_ARG, G_OUT].flatMap((l) => [...localGet(l), ...localGet(G_WO), ...i32Const(2), ...I32_SHL, ...I32_ADD, ...localSet(l)]),
  ...localGet(GL_Q), ...i32Const(1), ...I32_ADD, ...localSet(GL_Q),
  0x0c, 0, 0x0b, 0x0b, 0x0b,
];

/** Floats per chunk; the memory holds two chunks (regions A at 0 and B at CHUNK floats). */
const CHUNK = 32768;
/** Regions A and B, then three more chunks (the pooling kernels' per-window values, indices and outputs). */
const PAGES = (5 * CHUNK * 4) / 65536;

const moduleBytes = buildModule(
  [
    { name: 'sigmoid', params: [I32, I32], locals: [[1, I32], [SIGMOID_LOCALS + sigmoidConsts.count, V128]], body: sigmoidBody }, // END; vectors, constants
    { name: 'axpy', params: [I32, I32, I32, F64], locals: [[1, I32], [1, V128]], body: axpyBody },
    { name: 'sigmoidGrad', params: [I32, I32, I32], locals: [[1, I32], [1, V128]], body: sigmoidGradBody },
    { name: 'relu', params: [I32, I32], locals: [[1, I32]], body: reluBody },
    { name: 'reluGrad', params: [I32, I32, I32], locals: [[1, I32]], body: reluGradBody },
    // q, g, groups, pin, pin2, pout, parg, idx; E0 ... LANES
    { name: 'reluMaxPool2', params: [I32, I32, I32, I32, I32, I32, I32], locals: [[8, I32], [10, V128]], body: poolBody },
    // q, gi, groups, row, idx, off; gm, j, pos, ev, od, lanes
    { name: 'reluMaxPool2Grad', params: [I32, I32, I32, I32, I32, I32, I32, I32], locals: [[6, I32], [6, V128]], body: poolGradBody },
    { name: 'affine', params: [I32, I32, I32, I32], locals: [[4, I32], [2, V128]], body: affineBody },
    { name: 'stats', params: [I32, I32, I32, I32, I32, I32], locals: [[4, I32], [7, V128]], body: statsBody },
    { name: 'gradSums', params: [I32, I32, I32, I32, I32, I32], locals: [[4, I32], [6, V128]], body: gradSumsBody },
    { name: 'gradAffine', params: [I32, I32, I32, I32], locals: [[4, I32], [3, V128]], body: gradAffineBody },
  ],
  PAGES,
);

interface Simd {
  sigmoid: (ptr: number, n: number) => void;
  axpy: (w: number, n: number, g: number, alpha: number) => void;
  sigmoidGrad: (g: number, n: number, y: number) => void;
  relu: (x: number, n: number) => void;
  reluGrad: (g: number, n: number, y: number) => void;
  reluMaxPool2: (inp: number, pairs: number, w: number, wo: number, out: number, arg: number, base: number) => void;
  reluMaxPool2Grad: (gx: number, pairs: number, w: number, wo: number, g: number, arg: number, base: number, out: number) => void;
  affine: (x: number, n: number, planes: number, coef: number) => void;
  gradAffine: (dy: number, n: number, planes: number, coef: number) => void;
  gradSums: (dy: number, n: number, stride: number, planes: number, mu: number, out: number) => void;
  stats: (x: number, n: number, stride: number, planes: number, k: number, out: number) => void;
  mem: Float32Array;
  mem64: Float64Array;
  memI32: Int32Array;
}

function instantiate(): Simd | null {
  try {
    if (typeof WebAssembly === 'undefined' || !WebAssembly.validate(moduleBytes)) return null;
    const e = new WebAssembly.Instance(new WebAssembly.Module(moduleBytes)).exports;
    const mem = new Float32Array((e.mem as WebAssembly.Memory).buffer);
    return {
      sigmoid: e.sigmoid as Simd['sigmoid'],
      axpy: e.axpy as Simd['axpy'],
      sigmoidGrad: e.sigmoidGrad as Simd['sigmoidGrad'],
      relu: e.relu as Simd['relu'],
      reluGrad: e.reluGrad as Simd['reluGrad'],
      reluMaxPool2: e.reluMaxPool2 as Simd['reluMaxPool2'],
      reluMaxPool2Grad: e.reluMaxPool2Grad as Simd['reluMaxPool2Grad'],
      affine: e.affine as Simd['affine'],
      gradAffine: e.gradAffine as Simd['gradAffine'],
      gradSums: e.gradSums as Simd['gradSums'],
      stats: e.stats as Simd['stats'],
      mem,
      mem64: new Float64Array(mem.buffer),
      memI32: new Int32Array(mem.buffer),
    };
  } catch {
    return null;
  }
}

const kernel = instantiate();

/** True when the WebAssembly kernels are in use (false: the plain loops). */
export const simdAvailable = kernel !== null;

/** out[i] = 1 / (1 + e^-x[i]); out may be x. */
export function sigmoidInto(x: Float32Array, out: Float32Array): void {
  const n = x.length;
  if (kernel === null) {
    for (let i = 0; i < n; i++) out[i] = 1 / (1 + Math.exp(-x[i]));
    return;
  }
  const { sigmoid } = kernel;
  chunked1(x, out, (len) => sigmoid(0, len));
}

/** out = f(a) chunk by chunk: a's chunk in region A, where `run(len)` leaves the result. */
function chunked1(a: Float32Array, out: Float32Array, run: (len: number) => void): void {
  const { mem } = kernel!;
  for (let off = 0; off < a.length; off += CHUNK) {
    const len = Math.min(CHUNK, a.length - off);
    mem.set(a.subarray(off, off + len));
    run(len);
    out.set(mem.subarray(0, len), off);
  }
}

/** out = f(a, b) chunk by chunk: a's chunk in region A, b's in region B; `run(len)` leaves the result in A. */
function chunked2(a: Float32Array, b: Float32Array, out: Float32Array, run: (len: number) => void): void {
  const { mem } = kernel!;
  for (let off = 0; off < a.length; off += CHUNK) {
    const len = Math.min(CHUNK, a.length - off);
    mem.set(a.subarray(off, off + len));
    mem.set(b.subarray(off, off + len), CHUNK);
    run(len);
    out.set(mem.subarray(0, len), off);
  }
}

/** Below this many elements the copies and the call cost more than the plain loop saves. */
const MIN_SIMD = 64;

/** w[i] -= lr * g[i] (float64 product and difference, one rounding: bit-identical to the plain loop). */
export function sgdUpdate(w: Float32Array, g: Float32Array, lr: number): void {
  const n = w.length;
  if (kernel === null || n < MIN_SIMD) {
    for (let i = 0; i < n; i++) w[i] -= lr * g[i];
    return;
  }
  const { axpy } = kernel;
  chunked2(w, g, w, (len) => axpy(0, len, CHUNK * 4, -lr));
}

/** gx[i] = g[i] * y[i] * (1 - y[i]), the sigmoid gradient written (not added) into gx; bit-identical to the loop. */
export function sigmoidGradInto(g: Float32Array, y: Float32Array, gx: Float32Array): void {
  const n = g.length;
  if (kernel === null || n < MIN_SIMD) {
    for (let i = 0; i < n; i++) gx[i] = g[i] * y[i] * (1 - y[i]);
    return;
  }
  const { sigmoidGrad } = kernel;
  chunked2(g, y, gx, (len) => sigmoidGrad(0, len, CHUNK * 4));
}

/** Int32 view of a Float32Array's bits. */
function bits(a: Float32Array): Int32Array {
  return new Int32Array(a.buffer, a.byteOffset, a.length);
}

/**
 * out = max(x, 0) on the float bits: a set sign bit (negative, -0, a NaN with its sign bit set) gives +0.
 * A compare-and-branch per element mispredicts half the time on zero-mean inputs; the bit form has no branch.
 */
export function reluInto(x: Float32Array, out: Float32Array): void {
  const n = x.length;
  if (kernel === null || n < MIN_SIMD) {
    const xi = bits(x);
    const oi = bits(out);
    for (let i = 0; i < n; i++) {
      const v = xi[i];
      oi[i] = v & ~(v >> 31);
    }
    return;
  }
  const { relu } = kernel;
  chunked1(x, out, (len) => relu(0, len));
}

/** gx = g where y > 0, else +0 (y = relu's output, whose bits are >= 0; a NaN y passes g), written into gx. */
export function reluGradInto(g: Float32Array, y: Float32Array, gx: Float32Array): void {
  const n = g.length;
  if (kernel === null || n < MIN_SIMD) {
    const gi = bits(g);
    const yi = bits(y);
    const oi = bits(gx);
    for (let i = 0; i < n; i++) oi[i] = gi[i] & (-yi[i] >> 31);
    return;
  }
  const { reluGrad } = kernel;
  chunked2(g, y, gx, (len) => reluGrad(0, len, CHUNK * 4));
}

/**
 * out, arg = 2x2 stride-2 max pooling of relu(x) over `planes` planes of h x w (h even), as reluMaxPool2d's
 * loop: out the winning value, arg its flat index in x. Returns false (nothing written) when the kernel does not
 * apply (no WebAssembly SIMD, odd h, or rows too long for a chunk); the caller then runs its own loop.
 */
export function reluMaxPool2Into(x: Float32Array, planes: number, h: number, w: number, out: Float32Array, arg: Int32Array): boolean {
  const wo = w >> 1;
  // Slack: a row's last step reads up to 8 values past its end and writes up to 3 windows past wo.
  const maxPairs = Math.min(Math.floor((2 * CHUNK - 16) / (2 * w)), Math.floor((CHUNK - 8) / Math.max(wo, 1)));
  if (kernel === null || h % 2 !== 0 || wo === 0 || maxPairs < 1) return false;
  const { reluMaxPool2, mem, memI32 } = kernel;
  const total = (planes * h) >> 1;
  for (let q0 = 0; q0 < total; q0 += maxPairs) {
    const pairs = Math.min(maxPairs, total - q0);
    mem.set(x.subarray(q0 * 2 * w, (q0 + pairs) * 2 * w));
    reluMaxPool2(0, pairs, w, wo, 2 * CHUNK * 4, 3 * CHUNK * 4, q0 * 2 * w);
    out.set(mem.subarray(2 * CHUNK, 2 * CHUNK + pairs * wo), q0 * wo);
    arg.set(memI32.subarray(3 * CHUNK, 3 * CHUNK + pairs * wo), q0 * wo);
  }
  return true;
}

/**
 * The fresh gradient of reluMaxPool2Into: gx = g at arg where out > 0 (or NaN), 0 elsewhere, every element of gx
 * written (gx spans the planes). Returns false (nothing written) when the kernel does not apply, as the forward.
 */
export function reluMaxPool2GradInto(
  g: Float32Array, out: Float32Array, arg: Int32Array, planes: number, h: number, w: number, gx: Float32Array,
): boolean {
  const wo = w >> 1;
  // Slack: a row's last step writes up to 6 values past its end (into the next row, or past the chunk).
  const maxPairs = Math.min(Math.floor((2 * CHUNK - 16) / (2 * w)), Math.floor((CHUNK - 8) / Math.max(wo, 1)));
  // Odd w: the last column of a row belongs to no window and no step writes it, so the loop must do it.
  if (kernel === null || h % 2 !== 0 || w % 2 !== 0 || wo === 0 || maxPairs < 1) return false;
  const { reluMaxPool2Grad, mem, memI32 } = kernel;
  const total = (planes * h) >> 1;
  for (let q0 = 0; q0 < total; q0 += maxPairs) {
    const pairs = Math.min(maxPairs, total - q0);
    mem.set(g.subarray(q0 * wo, (q0 + pairs) * wo), 2 * CHUNK);
    memI32.set(arg.subarray(q0 * wo, (q0 + pairs) * wo), 3 * CHUNK);
    // The last step's lanes past the chunk's windows read these slots: an index of -1 matches no input.
    memI32.fill(-1, 3 * CHUNK + pairs * wo, 3 * CHUNK + pairs * wo + 4);
    mem.set(out.subarray(q0 * wo, (q0 + pairs) * wo), 4 * CHUNK);
    reluMaxPool2Grad(0, pairs, w, wo, 2 * CHUNK * 4, 3 * CHUNK * 4, q0 * 2 * w, 4 * CHUNK * 4);
    gx.set(mem.subarray(0, pairs * 2 * w), q0 * 2 * w);
  }
  return true;
}

/**
 * Below this plane size (S values per channel and sample) the kernels decline and the caller runs its own loop.
 */
const MIN_PLANE = 32;
/** Float offset of the BN kernels' per-plane coefficients (up to CHUNK / MIN_PLANE planes, 3 float64 each), past region C's slack. */
const COEF = 3 * CHUNK + 16;
/** Float offset of the BN kernels' per-plane sums (up to CHUNK / MIN_PLANE planes, 8 float64 each). */
const OUTS = 4 * CHUNK;

/**
 * Calls run(off, len, n, planes, c) for the chunks of the flat range [start, end) of (N, C, S) planes: `planes`
 * whole planes of n = S values when S <= CHUNK (as many as fit), else one piece of n = len values of a plane;
 * c is the channel of the chunk's first plane.
 */
function planeChunks(start: number, end: number, C: number, S: number, run: (off: number, len: number, n: number, planes: number, c: number) => void): void {
  if (S <= CHUNK) {
    const step = Math.floor(CHUNK / S) * S;
    for (let off = start; off < end; off += step) {
      const len = Math.min(step, end - off);
      run(off, len, S, len / S, (off / S) % C);
    }
    return;
  }
  for (let p = start; p < end; p += S) {
    for (let off = p; off < p + S; off += CHUNK) {
      const len = Math.min(CHUNK, p + S - off);
      run(off, len, len, 1, (p / S) % C);
    }
  }
}

/**
 * BatchNorm's forward map y = x * scale[c] + shift[c] over the planes of samples [n0, n1) of an (N, C, S) array,
 * bit-identical to the plain loop (float64 lanes, one rounding). Returns false (nothing written) when the kernel
 * does not apply (no WebAssembly SIMD, or planes under MIN_PLANE values).
 * Output goes to region B, not in place: a plane's last step may write up to 3 values past it, into the next
 * plane's slots, which that plane then writes; reading them back in place would have used clobbered inputs.
 */
export function bnAffineInto(
  x: Float32Array, y: Float32Array, C: number, S: number, n0: number, n1: number, scale: Float64Array, shift: Float64Array,
): boolean {
  if (kernel === null || S < MIN_PLANE) return false;
  const { affine, mem, mem64 } = kernel;
  planeChunks(n0 * C * S, n1 * C * S, C, S, (off, len, n, planes, c) => {
    for (let j = 0, q = COEF / 2; j < planes; j++, q += 2) {
      mem64[q] = scale[c];
      mem64[q + 1] = shift[c];
      if (++c === C) c = 0;
    }
    mem.set(x.subarray(off, off + len));
    affine(0, n, planes, COEF * 4);
    y.set(mem.subarray(CHUNK, CHUNK + len), off);
  });
  return true;
}

/**
 * BatchNorm's input gradient dx = a[c] * dy + b[c] * x + k[c], written (not added) over the planes of samples
 * [n0, n1); bit-identical to the plain loop. Returns false (nothing written) when the kernel does not apply.
 * dy goes to region A, x to B, the result to the third chunk (slack as in bnAffineInto).
 */
export function bnGradInto(
  x: Float32Array, dy: Float32Array, dx: Float32Array, C: number, S: number, n0: number, n1: number,
  coef: { a: Float64Array; b: Float64Array; k: Float64Array },
): boolean {
  if (kernel === null || S < MIN_PLANE) return false;
  const { gradAffine, mem, mem64 } = kernel;
  const { a, b, k } = coef;
  planeChunks(n0 * C * S, n1 * C * S, C, S, (off, len, n, planes, c) => {
    for (let j = 0, q = COEF / 2; j < planes; j++, q += 3) {
      mem64[q] = a[c];
      mem64[q + 1] = b[c];
      mem64[q + 2] = k[c];
      if (++c === C) c = 0;
    }
    mem.set(dy.subarray(off, off + len));
    mem.set(x.subarray(off, off + len), CHUNK);
    gradAffine(0, n, planes, COEF * 4);
    dx.set(mem.subarray(2 * CHUNK, 2 * CHUNK + len), off);
  });
  return true;
}

/**
 * BatchNorm's backward sums over samples [n0, n1): sumDy[c] = sum(dy), sumDyXc[c] = sum(dy * (x - mean[c])),
 * bit-identical to bnGradSums's loop (same four accumulators, same order, same combination). Chunks hold whole
 * planes so that no plane's sum is split; returns false (nothing written) for planes under MIN_PLANE values or
 * over a chunk, or without WebAssembly SIMD.
 */
export function bnGradSumsInto(
  x: Float32Array, dy: Float32Array, C: number, S: number,
  range: { n0: number; n1: number; mean: Float64Array }, sumDy: Float64Array, sumDyXc: Float64Array,
): boolean {
  if (kernel === null || S < MIN_PLANE || S > CHUNK) return false;
  const { gradSums, mem, mem64 } = kernel;
  const { n0, n1, mean } = range;
  const S4 = S & ~3;
  sumDy.fill(0, 0, C);
  sumDyXc.fill(0, 0, C);
  planeChunks(n0 * C * S, n1 * C * S, C, S, (off, len, _n, planes, c0) => {
    for (let j = 0, c = c0; j < planes; j++) {
      mem64[COEF / 2 + j] = mean[c];
      if (++c === C) c = 0;
    }
    mem.set(dy.subarray(off, off + len));
    mem.set(x.subarray(off, off + len), CHUNK);
    gradSums(0, S4, S, planes, COEF * 4, OUTS * 4);
    for (let j = 0, c = c0, q = OUTS / 2, o = off; j < planes; j++, q += 8, o += S) {
      const mu = mean[c];
      let a0 = mem64[q];
      let b0 = mem64[q + 4];
      // The tail (S mod 4 values) goes to the first accumulators, as in the loop.
      for (let i = o + S4; i < o + S; i++) {
        const g = dy[i];
        a0 += g;
        b0 += g * (x[i] - mu);
      }
      sumDy[c] += a0 + mem64[q + 1] + mem64[q + 2] + mem64[q + 3];
      sumDyXc[c] += b0 + mem64[q + 5] + mem64[q + 6] + mem64[q + 7];
      if (++c === C) c = 0;
    }
  });
  return true;
}

/**
 * bnStats's accumulation over samples [n0, n1): sums[c] = sum(x - K), sqs[c] = sum((x - K)^2) with K = x at the
 * channel's first value, bit-identical to its loop (same two chains per plane, same order). The caller finishes
 * the statistics. Returns false (nothing written) where the kernel does not apply, as bnGradSumsInto.
 */
export function bnStatsInto(x: Float32Array, C: number, S: number, n0: number, n1: number, sums: Float64Array, sqs: Float64Array): boolean {
  if (kernel === null || S < MIN_PLANE || S > CHUNK) return false;
  const { stats, mem, mem64 } = kernel;
  const S8 = S & ~7;
  sums.fill(0, 0, C);
  sqs.fill(0, 0, C);
  planeChunks(n0 * C * S, n1 * C * S, C, S, (off, len, _n, planes, c0) => {
    for (let j = 0, c = c0; j < planes; j++) {
      mem64[COEF / 2 + j] = x[(n0 * C + c) * S];
      if (++c === C) c = 0;
    }
    mem.set(x.subarray(off, off + len));
    stats(0, S8, S, planes, COEF * 4, OUTS * 4);
    for (let j = 0, c = c0, q = OUTS / 2, o = off; j < planes; j++, q += 4, o += S) {
      const k = x[(n0 * C + c) * S];
      let s0 = mem64[q];
      let q0 = mem64[q + 2];
      // The tail (S mod 8 values) goes to the first chains, as in the loop.
      for (let i = o + S8; i < o + S; i++) {
        const d = x[i] - k;
        s0 += d;
        q0 += d * d;
      }
      sums[c] += s0 + mem64[q + 1];
      sqs[c] += q0 + mem64[q + 3];
      if (++c === C) c = 0;
    }
  });
  return true;
}
