// The float32x4 sigmoid as WebAssembly instructions, shared by the activation module's sigmoid and the BatchNorm module's fused BN + sigmoid.
import {
  Consts,
  F32X4_ABS,
  F32X4_ADD,
  F32X4_DIV,
  F32X4_FLOOR,
  F32X4_LT,
  F32X4_MUL,
  F32X4_NEG,
  F32X4_PMAX,
  F32X4_SUB,
  I32_ADD,
  I32_GE_U,
  I32X4_SHL,
  i32Const,
  localGet,
  localSet,
  simd,
  uleb,
  V128_BITSELECT,
  v128Load,
} from '../wasm/asm.js';

/** Indices of the v128 locals the sequence uses: X holds the input; the others are scratch. */
export interface SigmoidLocals {
  X: number;
  T: number;
  FX: number;
  R: number;
  R2: number;
  Y: number;
  Z: number;
}

/** v = a * b + c on f32x4 values already pushed as a and b; c given as instructions. */
const mulAdd = (c: number[]) => [...F32X4_MUL, ...c, ...F32X4_ADD];

/**
 * Leaves sigmoid(X) on the stack, four float32 lanes: 1/(1 + z) for x >= 0 and z/(1 + z) for x < 0, z = e^-|x|,
 * so exp never overflows. e^t for t in [-88.38, 0] is Cephes' expf: t = n ln2 + r with n = floor(t log2e + 1/2)
 * and ln2 split in two constants, e^r by a degree-7 polynomial, 2^n built in the exponent bits (about 1 ulp).
 * Below t = -88.38 (where e^t < 2^-127) z is 0, so sigmoid(x) for x < -88.38 is 0 instead of a value below 1e-38.
 * `k(v)` pushes the f32x4 constant v (kept in locals by the caller: see Consts in asm.ts).
 */
export function sigmoidSteps(l: SigmoidLocals, k: (v: number) => number[]): number[] {
  const { X, T, FX, R, R2, Y, Z } = l;
  return [
    // t = max(-|x|, -88.3762626647949), as pmax (one maxps; f32x4.max's NaN rules cost several): a NaN x stays NaN.
    ...localGet(X), ...F32X4_ABS, ...F32X4_NEG, ...k(-88.3762626647949), ...F32X4_PMAX, ...localSet(T),
    // fx = floor(t * log2e + 0.5)
    ...localGet(T), ...k(Math.LOG2E), ...mulAdd(k(0.5)), ...F32X4_FLOOR, ...localSet(FX),
    // r = t - fx * C1 - fx * C2 (C1 + C2 = ln 2, C1 exact in few bits)
    ...localGet(T), ...localGet(FX), ...k(0.693359375), ...F32X4_MUL, ...F32X4_SUB,
    ...localGet(FX), ...k(-2.12194440e-4), ...F32X4_MUL, ...F32X4_SUB, ...localSet(R),
    // y = p(r) r^2 + r + 1 with p(r) = p0 r^5 + ... + p5 evaluated as (a r^2 + b) r^2 + c, a = p0 r + p1,
    // b = p2 r + p3, c = p4 r + p5 (Estrin's scheme: a, b, c in parallel, half the dependency chain of Horner's).
    ...localGet(R), ...localGet(R), ...F32X4_MUL, ...localSet(R2),
    ...k(1.9875691500e-4), ...localGet(R), ...mulAdd(k(1.3981999507e-3)), ...localGet(R2), ...F32X4_MUL,
    ...k(8.3334519073e-3), ...localGet(R), ...mulAdd(k(4.1665795894e-2)), ...F32X4_ADD, ...localGet(R2), ...F32X4_MUL,
    ...k(1.6666665459e-1), ...localGet(R), ...mulAdd(k(5.0000001201e-1)), ...F32X4_ADD,
    ...localGet(R2), ...F32X4_MUL, ...localGet(R), ...F32X4_ADD, ...k(1), ...F32X4_ADD, ...localSet(Y),
    // z = y * 2^fx with 2^fx = (fx + 127) << 23 as float bits; fx + 127 + 2^23 holds the integer fx + 127 in its low
    // mantissa bits, and the shift drops the rest (cheaper than a float-to-int conversion, which x64 lacks for lanes).
    ...localGet(Y), ...localGet(FX), ...k(127 + 8388608), ...F32X4_ADD, ...i32Const(23), ...I32X4_SHL, ...F32X4_MUL,
    ...localSet(Z),
    // (x < 0 ? z : 1) / (1 + z)
    ...localGet(Z), ...k(1), ...localGet(X), ...k(0), ...F32X4_LT, ...V128_BITSELECT, // z where x < 0, else 1
    ...k(1), ...localGet(Z), ...F32X4_ADD, ...F32X4_DIV,
  ];
}

/** Vectors of 4 per step of sigmoidLoop: measured 2.17 -> 1.51 ns per value against 1 (2: 1.68, 3: 1.57). */
export const SIGMOID_UNROLL = 4;
/** Values per step of sigmoidLoop: callers run whole steps only (see the activation and BatchNorm modules). */
export const SIGMOID_STEP = 4 * SIGMOID_UNROLL;
/** v128 locals sigmoidLoop needs from `first` on, before its constants. */
export const SIGMOID_LOCALS = 7 * SIGMOID_UNROLL;

/**
 * dst = sigmoid(src) over the bytes [src, end) (i32 locals; src and dst advance; the same local for both is in
 * place), a multiple of SIGMOID_STEP values, with SIGMOID_UNROLL independent vectors per step. Why unrolled: the
 * exp polynomial is one long dependency chain (~90 cycles), and the CPU overlaps chains of one step better than
 * chains of successive steps. The same instructions per vector, so the same bits. Uses v128 locals first ...
 * first + SIGMOID_LOCALS - 1; `consts` registers the constants as they are used: emit its setup() after building
 * this loop, run it before.
 */
export function sigmoidLoop(src: number, dst: number, end: number, first: number, consts: Consts): number[] {
  const k = (v: number) => consts.f32(v);
  const vectors = Array.from({ length: SIGMOID_UNROLL }, (_, u) => {
    const o = first + 7 * u;
    return [
      ...localGet(dst), ...localGet(src), ...v128Load(16 * u), ...localSet(o),
      ...sigmoidSteps({ X: o, T: o + 1, FX: o + 2, R: o + 3, R2: o + 4, Y: o + 5, Z: o + 6 }, k),
      ...simd(0x0b), 2, ...uleb(16 * u), // v128.store at dst + 16u
    ];
  });
  const advance = (p: number) => [...localGet(p), ...i32Const(SIGMOID_STEP * 4), ...I32_ADD, ...localSet(p)];
  return [
    0x02, 0x40, 0x03, 0x40, // block, loop
    ...localGet(src), ...localGet(end), ...I32_GE_U, 0x0d, 1, // br_if 1: done
    ...vectors.flat(),
    ...advance(src),
    ...(dst === src ? [] : advance(dst)),
    0x0c, 0, 0x0b, 0x0b, // br 0, end loop, end block
  ];
}
