// The SGEMM's register-blocked microkernel (an MR x 8 tile of C from packed panels) and its scalar edge and scale loops.
import {
  F32, F32_ADD, F32_EQ, F32_MUL, F32_NE, f32Const, f32Load, f32Store, F32X4_ADD, F32X4_MUL, F32X4_RELAXED_MADD, F32X4_SPLAT, I32,
  i32Const, IF, ELSE, END, simd, v128Load, v128Load32Splat, v128Store,
} from './asm.js';
import { doWhileBelow, floats, forRange, Frame, get, ifElse, ifF32, inc, incBy, plus, set, times, whileBelow } from './gemm-frame.js';

/** bet == 0 (f32 local). */
const betaIsZero = (bet: number) => [...get(bet), ...f32Const(0), ...F32_EQ];

/** Columns of a tile: two f32x4 vectors, the width of a packed B panel. */
export const NR = 8;
const V128_ZERO = [...simd(0x0c), ...new Array<number>(16).fill(0)];

/** Parameters of tile(pa, pb, kc, c, ldc, alpha, bet): byte addresses, ldc in bytes, alpha and bet as f32. */
export const TILE_PARAMS = [I32, I32, I32, I32, I32, F32, F32];

/**
 * tile(pa, pb, kc, c, ldc, alpha, bet): C[0:mr, 0:8] = alpha * sum_p Apanel[p, :] (x) Bpanel[p, :] + bet * C, where
 * the A panel holds mr floats per k step (pa) and the B panel 8 (pb), both packed contiguously; bet = 0 never reads C.
 * kc >= 1.
 *
 * XNNPACK's "loadsplat" shape: per k step, two v128 loads of B, one v128.load32_splat per row of A, and 2 * mr
 * multiply-adds into 2 * mr accumulators; `relaxed` uses f32x4.relaxed_madd (one FMA), else f32x4.mul, f32x4.add.
 *
 * Why this shape and no unrolling (measured on the 2-core EPYC, Node 20.20 / V8 11.3, GFLOP/s at 256x784x256 NN,
 * mul+add / FMA; runs vary by ~20% with the load of the other core): TurboFan schedules all of an iteration's loads
 * (they sit on the effect chain) before its arithmetic (pure nodes are placed late), so every loaded vector is live
 * at once, next to the accumulators:
 * - 4 x 8 loadsplat, one k step per iteration: 8 acc + 2 B + 4 splats = 14 of the 15 registers (xmm15 is V8's
 *   scratch), no spills: 42 / 49.5 on an idle machine (39-49 / 41-48 under load). FMA is bound by its latency (8 independent chains; in C on
 *   this CPU 8
 *   chains of 128-bit FMA peak at ~54 GFLOP/s, 12 at ~82), mul+add by issue slots (16 vector ops per k step).
 * - 4 x 8 unrolled 2 or 4 k steps: 12 or 24 loads hoisted, spills: 31 / 27 and 32 / 34.
 * - 5 x 8 loadsplat: 10 acc + 7 loads = 17, two accumulators spilled: 23 / 22.
 * - 5 x 8 with rows 0-3 loaded as one v128 and splat by i8x16.shuffle (pure, so scheduled next to its use; 15
 *   registers, no spills): 37 / 46 (the vpshufd take issue slots from the FMAs). 6 x 8: 27 / 26 loadsplat,
 *   26 / 24 with shuffles (spills either way).
 * Pointers advance every step so that the load offsets stay 0..mr*4 (V8 keeps base + offset for each distinct offset
 * in a register: the 16 offsets of an unrolled loop also spilled general-purpose registers).
 */
export function tileFunction(mr: number, relaxed: boolean) {
  const [PA, PB, KC, C, LDC, ALPHA, BET] = [0, 1, 2, 3, 4, 5, 6];
  const f = new Frame(TILE_PARAMS);
  const end = f.i32();
  const acc = Array.from({ length: 2 * mr }, () => f.v128());
  const bv = [f.v128(), f.v128()];
  const as = f.v128();
  const fma = (x: number, y: number, z: number) =>
    relaxed
      ? [...get(x), ...get(y), ...get(z), ...F32X4_RELAXED_MADD, ...set(z, [])]
      : [...get(z), ...get(x), ...get(y), ...F32X4_MUL, ...F32X4_ADD, ...set(z, [])];
  const step = [
    ...set(bv[0], [...get(PB), ...v128Load(0)]),
    ...set(bv[1], [...get(PB), ...v128Load(16)]),
    ...Array.from({ length: mr }, (_, r) => [
      ...set(as, [...get(PA), ...v128Load32Splat(r * 4)]),
      ...fma(as, bv[0], acc[2 * r]),
      ...fma(as, bv[1], acc[2 * r + 1]),
    ]).flat(),
    ...incBy(PA, mr * 4),
    ...incBy(PB, NR * 4),
  ];
  return f.fn('tile', [
    ...acc.flatMap((v) => set(v, V128_ZERO)),
    ...set(end, plus(get(PA), times(get(KC), i32Const(mr * 4)))),
    ...doWhileBelow(PA, end, step),
    ...storeTile(mr, { C, LDC, ALPHA, BET }, acc, bv),
  ]);
}

/** The tile's stores: C = alpha * acc, or alpha * acc + bet * C when bet != 0 (bv: two v128 locals to reuse). */
function storeTile(mr: number, p: { C: number; LDC: number; ALPHA: number; BET: number }, acc: number[], bv: number[]): number[] {
  const [alpha, beta] = bv;
  const scaled = (v: number) => [...get(alpha), ...get(v), ...F32X4_MUL];
  const rows = (value: (v: number, offset: number) => number[]) =>
    Array.from({ length: mr }, (_, r) => [
      ...get(p.C), ...value(acc[2 * r], 0), ...v128Store(0),
      ...get(p.C), ...value(acc[2 * r + 1], 16), ...v128Store(16),
      ...(r < mr - 1 ? inc(p.C, get(p.LDC)) : []),
    ]).flat();
  return [
    ...set(alpha, [...get(p.ALPHA), ...F32X4_SPLAT]),
    ...get(p.BET), ...f32Const(0), ...F32_EQ, ...IF,
    ...rows((v) => scaled(v)),
    ...ELSE,
    ...set(beta, [...get(p.BET), ...F32X4_SPLAT]),
    ...rows((v, o) => [...scaled(v), ...get(beta), ...get(p.C), ...v128Load(o), ...F32X4_MUL, ...F32X4_ADD]),
    ...END,
  ];
}

/**
 * edge(s, c, ldc, mr, nr, bet): C[i, j] = S[i, j] + bet * C[i, j] for i < mr, j < nr (bet = 0: C = S, C unread), S
 * being a tile computed into scratch with rows of 8 floats: the partial tiles at the bottom and right of C, so that
 * nothing outside C's m x n window is ever written. Scalar: at most one tile per row and column of tiles.
 */
export function edgeFunction() {
  const [S, C, LDC, MR, NR_, BET] = [0, 1, 2, 3, 4, 5];
  const f = new Frame([I32, I32, I32, I32, I32, F32]);
  const [i, j, srow, crow] = [f.i32(), f.i32(), f.i32(), f.i32()];
  const v = f.f32();
  const cij = plus(get(crow), floats(j));
  const merge = [
    ...set(v, [...plus(get(srow), floats(j)), ...f32Load(0)]),
    ...ifElse([...get(BET), ...f32Const(0), ...F32_NE], set(v, [...get(v), ...get(BET), ...cij, ...f32Load(0), ...F32_MUL, ...F32_ADD])),
    ...cij, ...get(v), ...f32Store(0),
  ];
  return f.fn('edge', forRange(i, i32Const(0), get(MR), i32Const(1), [
    ...set(srow, plus(get(S), times(get(i), i32Const(NR * 4)))),
    ...set(crow, plus(get(C), times(get(i), get(LDC)))),
    ...forRange(j, i32Const(0), get(NR_), i32Const(1), merge),
  ]));
}

/** scale(c, ldc, m, n, beta): C = beta * C over the m x n window (beta = 0 stores zeros, C unread): the k = 0 and alpha = 0 cases. */
export function scaleFunction() {
  const [C, LDC, M, N, BETA] = [0, 1, 2, 3, 4];
  const f = new Frame([I32, I32, I32, I32, F32]);
  const [i, p, end] = [f.i32(), f.i32(), f.i32()];
  const value = ifF32(betaIsZero(BETA), f32Const(0), [...get(BETA), ...get(p), ...f32Load(0), ...F32_MUL]);
  return f.fn('scale', forRange(i, i32Const(0), get(M), i32Const(1), [
    ...set(p, plus(get(C), times(get(i), get(LDC)))),
    ...set(end, plus(get(p), floats(N))),
    ...whileBelow(p, end, [...get(p), ...value, ...f32Store(0), ...incBy(p, 4)]),
  ]));
}
