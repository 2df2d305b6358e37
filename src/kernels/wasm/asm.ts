// A minimal WebAssembly assembler: LEB128, the opcodes bnlab's kernels use, loop builders and a module builder.
// Instructions are plain byte arrays, so a kernel reads as a list of named operations (see src/kernels/simd/ and src/kernels/wasm/).

/** Unsigned LEB128 (WebAssembly's integer encoding). */
export function uleb(v: number): number[] {
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
export function sleb(v: number): number[] {
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

export const I32 = 0x7f;
export const V128 = 0x7b;

// Core opcodes, and the SIMD ones (prefix 0xfd, then the LEB128 sub-opcode).
export const localGet = (i: number) => [0x20, ...uleb(i)];
export const localSet = (i: number) => [0x21, ...uleb(i)];
export const i32Const = (v: number) => [0x41, ...sleb(v)];
export const simd = (code: number) => [0xfd, ...uleb(code)];
export const I32_ADD = [0x6a];
export const I32_SHL = [0x74];
export const I32_GE_U = [0x4f];
export const V128_LOAD = [...simd(0x00), 2, 0]; // align 2^2, offset 0
export const V128_STORE = [...simd(0x0b), 2, 0];
export const V128_STORE_16 = [...simd(0x0b), 2, 16]; // at the address + 16
export const V128_BITSELECT = simd(0x52);
export const F32X4_LT = simd(0x43);
export const F32X4_FLOOR = simd(0x68);
export const F32X4_ABS = simd(0xe0);
export const F32X4_NEG = simd(0xe1);
export const F32X4_ADD = simd(0xe4);
export const F32X4_SUB = simd(0xe5);
export const F32X4_MUL = simd(0xe6);
export const F32X4_DIV = simd(0xe7);
export const F32X4_PMAX = simd(0xeb);
export const I32X4_SHL = simd(0xab);
/** Two f32 at the address plus `offset` into the low half of a v128 (align 2^3). */
export const v128Load64Zero = (offset: number) => [...simd(0x5d), 3, ...uleb(offset)];
/** The low two f32 of a v128 to the address plus `offset`. */
export const v128Store64Lane0 = (offset: number) => [...simd(0x5b), 3, ...uleb(offset), 0];
export const F64X2_SPLAT = simd(0x14);
export const F64X2_PROMOTE_LOW_F32X4 = simd(0x5f);
export const F32X4_DEMOTE_F64X2_ZERO = simd(0x5e);
export const F64X2_ADD = simd(0xf0);
export const F64X2_SUB = simd(0xf1);
export const F64X2_MUL = simd(0xf2);
export const F64 = 0x7c;
export const V128_AND = simd(0x4e);
export const V128_ANDNOT = simd(0x4f);
export const I32X4_NEG = simd(0xa1);
export const I32X4_SHR_S = simd(0xac);
export const I32X4_SPLAT = simd(0x11);
export const I32X4_GT_S = simd(0x3b);
export const I32X4_EQ = simd(0x37);
export const I32X4_ADD = simd(0xae);
export const I32X4_SUB = simd(0xb1);
export const I32_MUL = [0x6c];
export const I32_SHR_S = [0x75];
export const I32_LT_S = [0x48];
/** i8x16.shuffle of the two v128 on the stack: 16 byte indices into their concatenation. */
export const shuffle = (bytes: number[]) => [...simd(0x0d), ...bytes];
/** The i32 lanes 0 and 2 of a, then of b; and lanes 1 and 3 (deinterleaving 8 values into evens and odds). */
export const EVENS = shuffle([0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27]);
export const ODDS = shuffle([4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31]);
export const localTee = (i: number) => [0x22, ...uleb(i)];
export const v128Load = (offset: number) => [...simd(0x00), 2, ...uleb(offset)];
export const f64Const = (v: number) => [0x44, ...new Uint8Array(Float64Array.of(v).buffer)];

// Added for the WebAssembly SGEMM (src/kernels/wasm/gemm*.ts): f32 scalars, control flow, calls, splat loads, relaxed FMA.
export const F32 = 0x7d;
/** block, loop and if with no result (blocktype 0x40), else, end. */
export const BLOCK = [0x02, 0x40];
export const LOOP = [0x03, 0x40];
export const IF = [0x04, 0x40];
export const ELSE = [0x05];
export const END = [0x0b];
export const br = (depth: number) => [0x0c, ...uleb(depth)];
export const brIf = (depth: number) => [0x0d, ...uleb(depth)];
export const RETURN = [0x0f];
/** call of the module's function number `index` (buildModule numbers functions in the order given). */
export const call = (index: number) => [0x10, ...uleb(index)];
/** select: the first of two values when the i32 on top is non-zero, else the second (i32 or f32 operands). */
export const SELECT = [0x1b];
export const f32Load = (offset: number) => [0x2a, 2, ...uleb(offset)];
export const f32Store = (offset: number) => [0x38, 2, ...uleb(offset)];
export const f32Const = (v: number) => [0x43, ...new Uint8Array(Float32Array.of(v).buffer)];
export const I32_EQZ = [0x45];
export const I32_EQ = [0x46];
export const I32_LT_U = [0x49];
export const I32_LE_U = [0x4d];
export const F32_EQ = [0x5b];
export const F32_NE = [0x5c];
export const I32_SUB = [0x6b];
export const I32_DIV_U = [0x6e];
export const I32_AND = [0x71];
export const I32_OR = [0x72];
export const F32_ADD = [0x92];
export const F32_MUL = [0x94];
export const v128Store = (offset: number) => [...simd(0x0b), 2, ...uleb(offset)];
/** One f32 at the address plus `offset`, in all four lanes. */
export const v128Load32Splat = (offset: number) => [...simd(0x09), 2, ...uleb(offset)];
export const F32X4_SPLAT = simd(0x13);
/** f32x4.relaxed_madd (relaxed SIMD, sub-opcode 0x105): a * b + c, fused or not as the hardware does it. */
export const F32X4_RELAXED_MADD = simd(0x105);

/**
 * A function's v128 constants, kept in locals that are set once before its loop: V8 builds a v128.const anew at
 * each use inside a loop, which made the sigmoid loop twice as long. Locals are numbered from `first`.
 */
export class Consts {
  private readonly bytes: number[][] = [];
  private readonly index = new Map<string, number>();
  constructor(private readonly first: number) {}

  /** local.get of a constant with all four f32 lanes = v. */
  f32(v: number): number[] {
    return this.get(Array.from(new Uint8Array(Float32Array.of(v, v, v, v).buffer)));
  }

  /** local.get of a constant with both f64 lanes = v. */
  f64(v: number): number[] {
    return this.get(Array.from(new Uint8Array(Float64Array.of(v, v).buffer)));
  }

  /** local.get of a constant with all four i32 lanes = v. */
  i32(v: number): number[] {
    return this.get(Array.from(new Uint8Array(Int32Array.of(v, v, v, v).buffer)));
  }

  private get(b: number[]): number[] {
    const key = b.join(',');
    let i = this.index.get(key);
    if (i === undefined) {
      i = this.first + this.bytes.length;
      this.index.set(key, i);
      this.bytes.push(b);
    }
    return localGet(i);
  }

  /** Number of v128 locals used. */
  get count(): number {
    return this.bytes.length;
  }

  /** Code setting every constant local (v128.const, local.set). */
  setup(): number[] {
    return this.bytes.flatMap((b, k) => [...simd(0x0c), ...b, ...localSet(this.first + k)]);
  }
}

/** Index of the `n` parameter in lanesLoop functions (the second parameter). */
const N = 1;

/**
 * A loop over the f32 arrays whose pointers are in locals `params` (the first is also the output): until the first
 * reaches itself + 4n, runs `step(offset)` for each of the `unroll` blocks of `bytes` (8: two f32 in float64 lanes;
 * 16: four f32 lanes) at that byte offset, storing what it leaves with `store(offset)`, then advances every pointer.
 * Lanes past n (n rounded up) read and write scratch that the caller ignores. `end` is the index of an i32 local;
 * N holds n. `setup` runs once before the loop.
 */
export function lanesLoop(
  params: number[], end: number, bytes: number, unroll: number,
  step: (offset: number) => number[], store: (offset: number) => number[], setup: number[] = [],
): number[] {
  const advance = params.flatMap((p) => [...localGet(p), ...i32Const(bytes * unroll), ...I32_ADD, ...localSet(p)]);
  const blocks = Array.from({ length: unroll }, (_, u) => [...localGet(params[0]), ...step(u * bytes), ...store(u * bytes)]).flat();
  return [
    ...localGet(params[0]), ...localGet(N), ...i32Const(2), ...I32_SHL, ...I32_ADD, ...localSet(end),
    ...setup,
    0x02, 0x40, 0x03, 0x40, // block, loop
    ...localGet(params[0]), ...localGet(end), ...I32_GE_U, 0x0d, 1, // br_if 1: done
    ...blocks,
    ...advance,
    0x0c, 0, 0x0b, 0x0b, 0x0b, // br 0, end loop, end block, end function
  ];
}

/** Two pairs of f32 per iteration in float64 lanes (unrolled: the loop's own instructions were a third of it). */
export const pairLoop = (params: number[], end: number, step: (offset: number) => number[], setup: number[] = []) =>
  lanesLoop(params, end, 8, 2, step, v128Store64Lane0, setup);
export const quadLoop = (params: number[], end: number, step: number[]) => lanesLoop(params, end, 16, 1, () => step, () => V128_STORE);

function section(id: number, content: number[]): number[] {
  return [id, ...uleb(content.length), ...content];
}

function name(s: string): number[] {
  return [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
}

function code(locals: number[][], body: number[]): number[] {
  const decl = [locals.length, ...locals.flatMap(([count, type]) => [count, type])];
  return [...uleb(decl.length + body.length), ...decl, ...body];
}

/** One function of a module: its exported name, parameter types, extra locals ([count, type] runs) and body. */
export interface WasmFunction {
  name: string;
  params: number[];
  locals: number[][];
  body: number[];
}

/** A memory the module imports as env.mem instead of defining its own (the heap all kernels share). */
export interface ImportedMemory {
  shared: boolean;
  /** Pages declared as the minimum (the memory's size when the module is compiled is fine). */
  initial: number;
  /** Pages declared as the maximum (required for shared memory). */
  maximum: number;
}

/** A memory type: limits flags (0x01 with maximum, 0x03 shared with maximum), then the page counts. */
function memoryType(m: ImportedMemory): number[] {
  return [m.shared ? 0x03 : 0x01, ...uleb(m.initial), ...uleb(m.maximum)];
}

/**
 * The bytes of a module with the given functions (each with its own signature, no results), exported under their
 * names, and either a memory of `memory` 64 KiB pages of its own, exported as 'mem', or an imported env.mem.
 */
export function buildModule(functions: WasmFunction[], memory: number | ImportedMemory): Uint8Array<ArrayBuffer> {
  const n = functions.length;
  const own = typeof memory === 'number';
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [...uleb(n), ...functions.flatMap((f) => [0x60, ...uleb(f.params.length), ...f.params, 0])]),
    ...(own ? [] : section(2, [1, ...name('env'), ...name('mem'), 0x02, ...memoryType(memory)])),
    ...section(3, [...uleb(n), ...functions.flatMap((_, i) => uleb(i))]),
    ...(own ? section(5, [1, 0, ...uleb(memory)]) : []),
    ...section(7, [
      ...uleb(own ? n + 1 : n),
      ...functions.flatMap((f, i) => [...name(f.name), 0, ...uleb(i)]),
      ...(own ? [...name('mem'), 2, 0] : []),
    ]),
    ...section(10, [...uleb(n), ...functions.flatMap((f) => code(f.locals, f.body))]),
  ]);
}
