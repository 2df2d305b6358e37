// WebAssembly SIMD relu + 2x2 max pooling on the heap, forward and backward, four windows per step; exactly the loops' results.
import {
  EVENS,
  I32,
  I32_ADD,
  I32_LT_S,
  I32_MUL,
  I32_SHL,
  I32_SHR_S,
  I32X4_ADD,
  I32X4_EQ,
  I32X4_GT_S,
  I32X4_NEG,
  I32X4_SHR_S,
  I32X4_SPLAT,
  I32X4_SUB,
  ODDS,
  V128,
  V128_AND,
  V128_ANDNOT,
  V128_BITSELECT,
  i32Const,
  localGet,
  localSet,
  shuffle,
  simd,
  uleb,
  v128Load,
} from '../wasm/asm.js';
import {
  CHUNK, END_FUNCTION, I32_AND, allResident, instantiateOnHeap, scratchRegions, v128Store32Lane, v128Store64Lane, type HeapViews,
} from './build.js';

const V128_STORE_AT = (offset: number) => [...simd(0x0b), 2, ...uleb(offset)];
const LOOP = [0x02, 0x40, 0x03, 0x40];
const NEXT = [0x0c, 0, 0x0b, 0x0b];
/** br_if out of the loop when !(local i < local n). */
const whileLess = (i: number, n: number) => [...localGet(i), ...localGet(n), ...I32_LT_S, 0x45, 0x0d, 1];
const inc = (l: number, v: number) => [...localGet(l), ...i32Const(v), ...I32_ADD, ...localSet(l)];
/** local l = (local a * local b) << shift + local base. */
const scaled = (l: number, base: number, a: number, b: number, shift: number) => [
  ...localGet(base), ...localGet(a), ...localGet(b), ...I32_MUL, ...i32Const(shift), ...I32_SHL, ...I32_ADD, ...localSet(l),
];
/** if (local rem & bit) { then } else { otherwise }. */
const ifBit = (rem: number, bit: number, then: number[], otherwise: number[] = []) => [
  ...localGet(rem), ...i32Const(bit), ...I32_AND, 0x04, 0x40, ...then, ...(otherwise.length ? [0x05, ...otherwise] : []), 0x0b,
];
const LANES_0246 = [...simd(0x0c), ...new Uint8Array(Int32Array.of(0, 2, 4, 6).buffer)];

/**
 * reluMaxPool2(in, pairs, w, wo, out, arg, base): 2x2 max pooling of relu(x), stride 2, over `pairs` consecutive
 * row pairs of width w at `in` (planes of even height, so row pairs follow each other), four windows per step.
 * Writes the output bits and the flat input index of each window's winner (base = index of in's first value).
 * relu'd bits are non-negative and order as integers like the floats (NaN above +inf), so the first largest wins
 * with integer compares, as in the loop. A row's last wo mod 4 windows are stored lane by lane, so nothing is
 * written past a row's windows; that step reads up to 8 values past its row (the next row, or past the input).
 */
const P_IN = 0, P_PAIRS = 1, P_W = 2, P_WO = 3, P_OUT = 4, P_ARG = 5, P_BASE = 6;
const L_Q = 7, L_G = 8, L_GROUPS = 9, L_PIN = 10, L_PIN2 = 11, L_POUT = 12, L_PARG = 13, L_IDX = 14, L_REM = 15;
const V_E0 = 16, V_O0 = 17, V_E1 = 18, V_O1 = 19, V_ST = 20, V_SB = 21, V_TOP = 22, V_BOT = 23, V_S = 24, V_LANES = 25, V_RES = 26, V_ARG = 27;
const reluV = (v: number) => [...localGet(v), ...localGet(v), ...i32Const(31), ...I32X4_SHR_S, ...V128_ANDNOT, ...localSet(v)];
/** Four windows at pin / pin2: their winners' bits in V_RES, their indices in V_ARG. */
const windows = [
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
  ...localGet(V_BOT), ...localGet(V_TOP), ...localGet(V_S), ...V128_BITSELECT, ...localSet(V_RES),
  // winner index: idx + lanes - sT (top) or idx + w + lanes - sB (bottom); a mask of -1 adds one
  ...localGet(L_IDX), ...localGet(P_W), ...I32_ADD, ...I32X4_SPLAT, ...localGet(V_LANES), ...I32X4_ADD, ...localGet(V_SB), ...I32X4_SUB,
  ...localGet(L_IDX), ...I32X4_SPLAT, ...localGet(V_LANES), ...I32X4_ADD, ...localGet(V_ST), ...I32X4_SUB,
  ...localGet(V_S), ...V128_BITSELECT, ...localSet(V_ARG),
];
/** Stores lanes of V_RES and V_ARG: all four, or the first `rem` (1-3, local L_REM). */
const storeWindows = (all: boolean) => {
  const both = (store: number[]) => [...localGet(L_POUT), ...localGet(V_RES), ...store, ...localGet(L_PARG), ...localGet(V_ARG), ...store];
  if (all) return both(V128_STORE_AT(0));
  return ifBit(L_REM, 2, [...both(v128Store64Lane(0, 0)), ...ifBit(L_REM, 1, both(v128Store32Lane(8, 2)))], both(v128Store32Lane(0, 0)));
};
const poolBody = [
  // groups = wo >> 2 whole steps, rem = wo & 3 windows in a last step; lanes = (0, 2, 4, 6)
  ...localGet(P_WO), ...i32Const(2), ...I32_SHR_S, ...localSet(L_GROUPS),
  ...localGet(P_WO), ...i32Const(3), ...I32_AND, ...localSet(L_REM),
  ...LANES_0246, ...localSet(V_LANES),
  ...LOOP, // over row pairs q
  ...whileLess(L_Q, P_PAIRS),
  // pin = in + q * 8w; pin2 = pin + 4w; pout = out + 4 q wo; parg = arg + 4 q wo; idx = base + 2 q w
  ...scaled(L_PIN, P_IN, L_Q, P_W, 3),
  ...localGet(L_PIN), ...localGet(P_W), ...i32Const(2), ...I32_SHL, ...I32_ADD, ...localSet(L_PIN2),
  ...scaled(L_POUT, P_OUT, L_Q, P_WO, 2),
  ...scaled(L_PARG, P_ARG, L_Q, P_WO, 2),
  ...scaled(L_IDX, P_BASE, L_Q, P_W, 1),
  ...i32Const(0), ...localSet(L_G),
  ...LOOP, // over groups of 4 windows
  ...whileLess(L_G, L_GROUPS),
  ...windows,
  ...storeWindows(true),
  ...inc(L_PIN, 32), ...inc(L_PIN2, 32), ...inc(L_POUT, 16), ...inc(L_PARG, 16), ...inc(L_IDX, 8), ...inc(L_G, 1),
  ...NEXT,
  ...localGet(L_REM), 0x04, 0x40, ...windows, ...storeWindows(false), 0x0b,
  ...inc(L_Q, 1),
  ...NEXT,
  ...END_FUNCTION,
];

/**
 * reluMaxPool2Grad(gx, pairs, w, wo, g, arg, base, out): the fresh input gradient of reluMaxPool2 over the same
 * row pairs (w even): gx = g at each window's winner where the window's output is > 0 (relu's gradient), 0
 * elsewhere, written row by row in full (no zero fill first). A row's last wo mod 4 windows are stored in part,
 * so nothing is written past the row; that step reads up to 3 windows past g, arg and out.
 */
const G_GX = 0, G_PAIRS = 1, G_W = 2, G_WO = 3, G_G = 4, G_ARG = 5, G_BASE = 6, G_OUT = 7;
const GL_Q = 8, GL_GI = 9, GL_GROUPS = 10, GL_ROW = 11, GL_IDX = 12, GL_OFF = 13, GL_REM = 14;
const GV_GM = 15, GV_J = 16, GV_POS = 17, GV_EV = 18, GV_OD = 19, GV_LANES = 20, GV_FIRST = 21, GV_SECOND = 22;
/** The gradient of group gi's 4 windows on one input row (bottom: + w), interleaved back into 8 inputs in FIRST, SECOND. */
const gradGroup = (bottom: boolean) => [
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
  ...localGet(GV_EV), ...localGet(GV_OD), ...shuffle([0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23]), ...localSet(GV_FIRST),
  ...localGet(GV_EV), ...localGet(GV_OD), ...shuffle([8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31]), ...localSet(GV_SECOND),
  // off = row (+ 4w for the bottom row) + 32 gi: where the group's 8 inputs start
  ...localGet(GL_ROW), ...(bottom ? [...localGet(G_W), ...i32Const(2), ...I32_SHL, ...I32_ADD] : []), ...localGet(GL_GI), ...i32Const(5),
  ...I32_SHL, ...I32_ADD, ...localSet(GL_OFF),
];
const storeInputs = (first: number[], second: number[]) => [
  ...localGet(GL_OFF), ...localGet(GV_FIRST), ...first, ...(second.length ? [...localGet(GL_OFF), ...localGet(GV_SECOND), ...second] : []),
];
/** One input row of output row q: whole groups, then the first 2 rem inputs of a last one. */
const gradRow = (bottom: boolean) => [
  ...i32Const(0), ...localSet(GL_GI),
  ...LOOP,
  ...whileLess(GL_GI, GL_GROUPS),
  ...gradGroup(bottom),
  ...storeInputs(V128_STORE_AT(0), V128_STORE_AT(16)),
  ...inc(GL_GI, 1),
  ...NEXT,
  ...localGet(GL_REM), 0x04, 0x40,
  ...gradGroup(bottom),
  ...ifBit(
    GL_REM, 2,
    [...storeInputs(V128_STORE_AT(0), []), ...ifBit(GL_REM, 1, [...localGet(GL_OFF), ...localGet(GV_SECOND), ...v128Store64Lane(16, 0)])],
    storeInputs(v128Store64Lane(0, 0), []),
  ),
  0x0b,
];
const poolGradBody = [
  ...localGet(G_WO), ...i32Const(2), ...I32_SHR_S, ...localSet(GL_GROUPS),
  ...localGet(G_WO), ...i32Const(3), ...I32_AND, ...localSet(GL_REM),
  ...LANES_0246, ...localSet(GV_LANES),
  ...LOOP, // over output rows q
  ...whileLess(GL_Q, G_PAIRS),
  // row = gx + 8 q w; idx = base + 2 q w; g, arg, out advance by one output row (4 wo bytes) per q
  ...scaled(GL_ROW, G_GX, GL_Q, G_W, 3),
  ...scaled(GL_IDX, G_BASE, GL_Q, G_W, 1),
  ...gradRow(false),
  ...gradRow(true),
  ...[G_G, G_ARG, G_OUT].flatMap((l) => [...localGet(l), ...localGet(G_WO), ...i32Const(2), ...I32_SHL, ...I32_ADD, ...localSet(l)]),
  ...inc(GL_Q, 1),
  ...NEXT,
  ...END_FUNCTION,
];
/** Bytes a kernel may read past its operands' ends (the last step of the last row). */
const READ_SLACK = 64;

/** The pooling kernels on arrays: false (nothing written) where the kernel does not take the shape. */
export interface PoolingSimd {
  reluMaxPool2(x: Float32Array, planes: number, h: number, w: number, out: Float32Array, arg: Int32Array): boolean;
  reluMaxPool2Grad(g: Float32Array, out: Float32Array, arg: Int32Array, planes: number, h: number, w: number, gx: Float32Array): boolean;
}

/** Instantiates the module on the heap with five copy regions; null where it cannot load. */
export function createPoolingSimd(): PoolingSimd | null {
  const m = instantiateOnHeap([
    // q, g, groups, pin, pin2, pout, parg, idx, rem; E0 ... ARG
    { name: 'reluMaxPool2', params: [I32, I32, I32, I32, I32, I32, I32], locals: [[9, I32], [12, V128]], body: poolBody },
    // q, gi, groups, row, idx, off, rem; gm, j, pos, ev, od, lanes, first, second
    { name: 'reluMaxPool2Grad', params: [I32, I32, I32, I32, I32, I32, I32, I32], locals: [[7, I32], [8, V128]], body: poolGradBody },
  ]);
  // Regions: the input (2 chunks: a chunk's row pairs hold twice its windows), windows' values, indices, gradient.
  const regions = scratchRegions(5);
  if (m === null || regions === null) return null;
  const heap = m.heap;
  const fwd = m.exports.reluMaxPool2 as (...a: number[]) => void;
  const bwd = m.exports.reluMaxPool2Grad as (...a: number[]) => void;
  /** Whether arrays may be used in place: all in the heap, and the last step's reads stay inside it. */
  const direct = (arrays: (Float32Array | Int32Array)[]) =>
    allResident(arrays) && arrays.every((a) => a.byteOffset + a.byteLength + READ_SLACK <= heap.bytes);
  return {
    reluMaxPool2(x, planes, h, w, out, arg) {
      const wo = w >> 1;
      if (h % 2 !== 0 || wo === 0) return false;
      const total = (planes * h) >> 1;
      if (direct([x, out, arg])) {
        fwd(x.byteOffset, total, w, wo, out.byteOffset, arg.byteOffset, 0);
        return true;
      }
      return copyForward(heap, regions, fwd, { x, w, wo, total, out, arg });
    },
    reluMaxPool2Grad(g, out, arg, planes, h, w, gx) {
      const wo = w >> 1;
      // Odd w: the last column of a row belongs to no window and no step writes it, so the loop must do it.
      if (h % 2 !== 0 || w % 2 !== 0 || wo === 0) return false;
      const total = (planes * h) >> 1;
      if (direct([g, out, arg, gx])) {
        bwd(gx.byteOffset, total, w, wo, g.byteOffset, arg.byteOffset, 0, out.byteOffset);
        return true;
      }
      return copyBackward(heap, regions, bwd, { g, out, arg, w, wo, total, gx });
    },
  };
}

/** Row pairs per copy-path chunk: the inputs (2w per pair) fit two regions, the windows (wo per pair) one. */
const pairsPerChunk = (w: number, wo: number) => Math.min(Math.floor((2 * CHUNK) / (2 * w)), Math.floor(CHUNK / wo));

/** The forward through the scratch regions, chunk by chunk (false when a row pair does not fit a chunk). */
function copyForward(
  heap: HeapViews, regions: number[], fwd: (...a: number[]) => void,
  o: { x: Float32Array; w: number; wo: number; total: number; out: Float32Array; arg: Int32Array },
): boolean {
  const { x, w, wo, total, out, arg } = o;
  const maxPairs = pairsPerChunk(w, wo);
  if (maxPairs < 1) return false;
  const [rin, , rout, rarg] = regions;
  for (let q0 = 0; q0 < total; q0 += maxPairs) {
    const pairs = Math.min(maxPairs, total - q0);
    heap.f32.set(x.subarray(q0 * 2 * w, (q0 + pairs) * 2 * w), rin >> 2);
    fwd(rin, pairs, w, wo, rout, rarg, q0 * 2 * w);
    out.set(heap.f32.subarray(rout >> 2, (rout >> 2) + pairs * wo), q0 * wo);
    arg.set(heap.i32.subarray(rarg >> 2, (rarg >> 2) + pairs * wo), q0 * wo);
  }
  return true;
}

/** The backward through the scratch regions, chunk by chunk (false when a row pair does not fit a chunk). */
function copyBackward(
  heap: HeapViews, regions: number[], bwd: (...a: number[]) => void,
  o: { g: Float32Array; out: Float32Array; arg: Int32Array; w: number; wo: number; total: number; gx: Float32Array },
): boolean {
  const { g, out, arg, w, wo, total, gx } = o;
  const maxPairs = pairsPerChunk(w, wo);
  if (maxPairs < 1) return false;
  const [rgx, , rg, rarg, rout] = regions;
  for (let q0 = 0; q0 < total; q0 += maxPairs) {
    const pairs = Math.min(maxPairs, total - q0);
    heap.f32.set(g.subarray(q0 * wo, (q0 + pairs) * wo), rg >> 2);
    heap.i32.set(arg.subarray(q0 * wo, (q0 + pairs) * wo), rarg >> 2);
    heap.f32.set(out.subarray(q0 * wo, (q0 + pairs) * wo), rout >> 2);
    bwd(rgx, pairs, w, wo, rg, rarg, q0 * 2 * w, rout);
    gx.set(heap.f32.subarray(rgx >> 2, (rgx >> 2) + pairs * 2 * w), q0 * 2 * w);
  }
  return true;
}
