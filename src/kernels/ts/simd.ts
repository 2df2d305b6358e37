// sigmoid over a Float32Array by a WebAssembly SIMD kernel (4 lanes), assembled at load from the instruction list
// below; falls back to Math.exp where WebAssembly SIMD is missing.
//
// Why WebAssembly: Math.exp costs ~15 ns per call in V8 and made sigmoid a quarter of the paper's net (W1); exp
// polynomials written in JavaScript did not beat it. The kernel runs in any engine with WebAssembly SIMD (Node,
// browsers), has no build step and no binary blob: the bytes are produced from the named instructions here.

/** Unsigned LEB128 (WebAssembly's integer encoding). */
function uleb(v: number): number[] {
  const out: number[] = [];
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
  return out;
}

/** Signed LEB128. */
function sleb(v: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const I32 = 0x7f;
const V128 = 0x7b;

// Core opcodes, and the SIMD ones (prefix 0xfd, then the LEB128 sub-opcode).
const localGet = (i: number) => [0x20, ...uleb(i)];
const localSet = (i: number) => [0x21, ...uleb(i)];
const i32Const = (v: number) => [0x41, ...sleb(v)];
const simd = (code: number) => [0xfd, ...uleb(code)];
const I32_ADD = [0x6a];
const I32_SHL = [0x74];
const I32_GE_U = [0x4f];
const V128_LOAD = [...simd(0x00), 2, 0]; // align 2^2, offset 0
const V128_STORE = [...simd(0x0b), 2, 0];
const V128_BITSELECT = simd(0x52);
const F32X4_LT = simd(0x43);
const F32X4_FLOOR = simd(0x68);
const F32X4_ABS = simd(0xe0);
const F32X4_NEG = simd(0xe1);
const F32X4_ADD = simd(0xe4);
const F32X4_SUB = simd(0xe5);
const F32X4_MUL = simd(0xe6);
const F32X4_DIV = simd(0xe7);
const F32X4_MAX = simd(0xe9);
const I32X4_SHL = simd(0xab);
const I32X4_ADD = simd(0xae);
const I32X4_SPLAT = simd(0x11);
const I32X4_TRUNC_SAT_F32X4_S = simd(0xf8);

// Locals of sigmoid(ptr, n): params 0-1, then one i32 and the v128 working values.
const PTR = 0;
const N = 1;
const END = 2;
const X = 3;
const T = 4;
const FX = 5;
const R = 6;
const Y = 7;
const Z = 8;

/** v = a * b + c on f32x4 values already pushed as a and b; c given as instructions. */
const mulAdd = (c: number[]) => [...F32X4_MUL, ...c, ...F32X4_ADD];
/** A v128.const holding v in all four f32 lanes. */
const splat = (v: number) => [...simd(0x0c), ...new Uint8Array(Float32Array.of(v, v, v, v).buffer)];

/**
 * In place over [ptr, ptr + 4n) rounded up to 4 lanes: sigmoid(x) = 1/(1 + z) for x >= 0 and z/(1 + z) for x < 0,
 * z = e^-|x|, so exp never overflows. e^t for t in [-88.38, 0] is Cephes' expf: t = n ln2 + r with n = floor(t log2e
 * + 1/2) and ln2 split in two constants, e^r by a degree-7 polynomial, 2^n built in the exponent bits (about 1 ulp).
 * Below t = -88.38 (where e^t < 2^-127) z is 0, so sigmoid(x) for x < -88.38 is 0 instead of a value below 1e-38.
 */
const body = [
  ...localGet(PTR), ...localGet(N), ...i32Const(2), ...I32_SHL, ...I32_ADD, ...localSet(END),
  0x02, 0x40, // block
  0x03, 0x40, // loop
  ...localGet(PTR), ...localGet(END), ...I32_GE_U, 0x0d, 1, // br_if 1: done
  ...localGet(PTR), ...V128_LOAD, ...localSet(X),
  // t = max(-|x|, -88.3762626647949)
  ...localGet(X), ...F32X4_ABS, ...F32X4_NEG, ...splat(-88.3762626647949), ...F32X4_MAX, ...localSet(T),
  // fx = floor(t * log2e + 0.5)
  ...localGet(T), ...splat(Math.LOG2E), ...mulAdd(splat(0.5)), ...F32X4_FLOOR, ...localSet(FX),
  // r = t - fx * C1 - fx * C2 (C1 + C2 = ln 2, C1 exact in few bits)
  ...localGet(T), ...localGet(FX), ...splat(0.693359375), ...F32X4_MUL, ...F32X4_SUB,
  ...localGet(FX), ...splat(-2.12194440e-4), ...F32X4_MUL, ...F32X4_SUB, ...localSet(R),
  // y = (((((p0 r + p1) r + p2) r + p3) r + p4) r + p5) r^2 + r + 1
  ...splat(1.9875691500e-4), ...localGet(R), ...mulAdd(splat(1.3981999507e-3)),
  ...localGet(R), ...mulAdd(splat(8.3334519073e-3)),
  ...localGet(R), ...mulAdd(splat(4.1665795894e-2)),
  ...localGet(R), ...mulAdd(splat(1.6666665459e-1)),
  ...localGet(R), ...mulAdd(splat(5.0000001201e-1)),
  ...localGet(R), ...localGet(R), ...F32X4_MUL, ...F32X4_MUL,
  ...localGet(R), ...F32X4_ADD, ...splat(1), ...F32X4_ADD, ...localSet(Y),
  // z = y * 2^fx, 2^fx = (fx + 127) << 23 as float bits
  ...localGet(Y), ...localGet(FX), ...I32X4_TRUNC_SAT_F32X4_S, ...i32Const(127), ...I32X4_SPLAT, ...I32X4_ADD,
  ...i32Const(23), ...I32X4_SHL, ...F32X4_MUL, ...localSet(Z),
  // store at ptr: (x < 0 ? z : 1) / (1 + z)
  ...localGet(PTR),
  ...localGet(Z), ...splat(1), ...localGet(X), ...splat(0), ...F32X4_LT, ...V128_BITSELECT, // z where x < 0, else 1
  ...splat(1), ...localGet(Z), ...F32X4_ADD, ...F32X4_DIV,
  ...V128_STORE,
  ...localGet(PTR), ...i32Const(16), ...I32_ADD, ...localSet(PTR),
  0x0c, 0, // br 0: next 4 lanes
  0x0b, // end loop
  0x0b, // end block
  0x0b, // end function
];

function section(id: number, content: number[]): number[] {
  return [id, ...uleb(content.length), ...content];
}

function name(s: string): number[] {
  return [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
}

const localDecls = [2, 1, I32, 6, V128]; // 1 i32 (END), 6 v128 (X, T, FX, R, Y, Z)
const funcBody = [...localDecls, ...body];

/** Pages of WebAssembly memory (64 KiB each); data is processed in chunks of this size. */
const PAGES = 2;
const CHUNK = (PAGES * 65536) / 4;

const moduleBytes = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  ...section(1, [1, 0x60, 2, I32, I32, 0]), // type 0: (i32, i32) -> ()
  ...section(3, [1, 0]), // function 0 has type 0
  ...section(5, [1, 0, PAGES]), // one memory, PAGES pages
  ...section(7, [2, ...name('sigmoid'), 0, 0, ...name('mem'), 2, 0]),
  ...section(10, [1, ...uleb(funcBody.length), ...funcBody]),
]);

interface Kernel {
  run: (ptr: number, n: number) => void;
  mem: Float32Array;
}

function instantiate(): Kernel | null {
  try {
    if (typeof WebAssembly === 'undefined' || !WebAssembly.validate(moduleBytes)) return null;
    const inst = new WebAssembly.Instance(new WebAssembly.Module(moduleBytes));
    const mem = new Float32Array((inst.exports.mem as WebAssembly.Memory).buffer);
    return { run: inst.exports.sigmoid as (ptr: number, n: number) => void, mem };
  } catch {
    return null;
  }
}

const kernel = instantiate();

/** True when the WebAssembly kernel is in use (false: the Math.exp loop). */
export const sigmoidIsWasm = kernel !== null;

/** out[i] = 1 / (1 + e^-x[i]); out may be x. */
export function sigmoidInto(x: Float32Array, out: Float32Array): void {
  const n = x.length;
  if (kernel === null) {
    for (let i = 0; i < n; i++) out[i] = 1 / (1 + Math.exp(-x[i]));
    return;
  }
  const { run, mem } = kernel;
  for (let off = 0; off < n; off += CHUNK) {
    const len = Math.min(CHUNK, n - off);
    mem.set(x.subarray(off, off + len));
    run(0, len);
    out.set(mem.subarray(0, len), off);
  }
}
