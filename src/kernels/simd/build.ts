// What every WebAssembly SIMD kernel module shares: instantiation on the heap, loop builders, and the copy path for arrays outside the heap.
//
// Every module imports the one heap memory (src/tensor/heap.ts) instead of owning a memory, and its kernels take one
// byte address per operand. An operand that lives in the heap is passed as its own address: no copy on the way in
// or out. One that does not (a tensor made from a user's Float32Array, a leaf gradient, an allocation after the
// heap filled up) is staged through the module's scratch regions chunk by chunk (`staged` below), as every kernel
// did before the heap existed. Kernels never write outside their operands' ranges: a heap neighbour may be another
// tensor.

import {
  F64X2_PROMOTE_LOW_F32X4,
  I32_ADD,
  I32_GE_U,
  I32_SHL,
  buildModule,
  i32Const,
  localGet,
  localSet,
  simd,
  uleb,
  v128Load64Zero,
  v128Store64Lane0,
  type WasmFunction,
} from '../wasm/asm.js';
import { allocStatic, heapMemory, isResident } from '../../tensor/heap.js';
import { simdAllowed } from '../simd-switch.js';

/** Typed views on the whole heap (it never grows, so they stay valid), and its size in bytes. */
export interface HeapViews {
  f32: Float32Array;
  f64: Float64Array;
  i32: Int32Array;
  bytes: number;
}

let views: HeapViews | null = null;

/**
 * The exports of a module of `functions` that imports the heap as env.mem, with views on the heap; null when
 * WebAssembly SIMD is switched off (BNLAB_SIMD=0), there is no heap, or the bytes do not validate (a runtime
 * without SIMD). The family then runs its loops.
 */
export function instantiateOnHeap(functions: WasmFunction[]): { exports: WebAssembly.Exports; heap: HeapViews } | null {
  if (!simdAllowed()) return null;
  const h = heapMemory();
  if (h === null) return null;
  try {
    const bytes = buildModule(functions, { shared: false, initial: h.initial, maximum: h.maximum });
    if (!WebAssembly.validate(bytes)) return null;
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { mem: h.memory } });
    const buf = h.memory.buffer;
    views ??= { f32: new Float32Array(buf), f64: new Float64Array(buf), i32: new Int32Array(buf), bytes: buf.byteLength };
    return { exports: instance.exports, heap: views };
  } catch {
    return null;
  }
}

/** Floats per scratch region: one chunk of the copy path (128 KiB, well inside L2). */
export const CHUNK = 32768;
/** Floats after each region that kernels may read past a chunk's end (and the sigmoid tail's rounding). */
const SLACK = 64;

/** `count` scratch regions of CHUNK floats from the heap's static area (byte addresses), or null without room. */
export function scratchRegions(count: number): number[] | null {
  const base = allocStatic(count * (CHUNK + SLACK) * 4);
  if (base === null) return null;
  return Array.from({ length: count }, (_, j) => base + j * (CHUNK + SLACK) * 4);
}

/** True when every array lives in the heap (the kernel can run on them in place). */
export function allResident(arrays: readonly (Float32Array | Int32Array)[]): boolean {
  for (const a of arrays) if (!isResident(a)) return false;
  return true;
}

/** First index holding the same array as index j (aliases share one address). */
function firstOf(arrays: readonly Float32Array[], j: number): number {
  for (let i = 0; i < j; i++) if (arrays[i] === arrays[j]) return i;
  return j;
}

/**
 * Runs `run(p, off, len)` over elements [start, end) of operands indexed alike, p[j] being the byte address of
 * arrays[j][off]. With every operand in the heap, `run` gets their own addresses in pieces of `per.direct` values
 * (Infinity: one call); otherwise pieces of at most `per.copy` values (<= CHUNK), where an operand outside the heap
 * is read from region j of `regions` (copied in first when bit j of `reads` is set) and copied back after when bit
 * j of `writes` is set. An array passed twice (in place: out === x) shares one address.
 */
export function staged(
  heap: HeapViews, regions: readonly number[], arrays: readonly Float32Array[], masks: { reads: number; writes: number },
  range: { start: number; end: number; per: { copy: number; direct: number } },
  run: (p: number[], off: number, len: number) => void,
): void {
  const { start, end } = range;
  const resident = allResident(arrays);
  const per = resident ? range.per.direct : range.per.copy;
  if (!(per > 0)) throw new RangeError(`staged: a piece must hold at least one value, got ${per}`);
  const p = new Array<number>(arrays.length);
  const f32 = heap.f32;
  for (let off = start; off < end; off += per) {
    const len = Math.min(per, end - off);
    for (let j = 0; j < arrays.length; j++) {
      const a = arrays[j];
      const i = firstOf(arrays, j);
      if (i < j) p[j] = p[i];
      else if (isResident(a)) p[j] = a.byteOffset + 4 * off;
      else {
        p[j] = regions[j];
        if (readBy(arrays, masks.reads, j)) f32.set(a.subarray(off, off + len), p[j] >> 2);
      }
    }
    run(p, off, len);
    for (let j = 0; j < arrays.length; j++) {
      const a = arrays[j];
      if (firstOf(arrays, j) === j && !isResident(a) && readBy(arrays, masks.writes, j)) a.set(f32.subarray(p[j] >> 2, (p[j] >> 2) + len), off);
    }
  }
}

/** Whether any occurrence of arrays[j] has its bit set in mask. */
function readBy(arrays: readonly Float32Array[], mask: number, j: number): boolean {
  for (let i = 0; i < arrays.length; i++) if (arrays[i] === arrays[j] && (mask >> i) & 1) return true;
  return false;
}

// Loop builders. Locals are numbered by the caller; `p` a pointer (i32 byte address), `end` the i32 it stops at.

export const BLOCK_LOOP = [0x02, 0x40, 0x03, 0x40];
/** br 0, end loop, end block. */
export const NEXT_END = [0x0c, 0, 0x0b, 0x0b];
export const END_FUNCTION = [0x0b];
export const I32_LT_U = [0x49];
export const I32_AND = [0x71];
export const I32_GT_U = [0x4b];

/** local p += v. */
export const add = (p: number, v: number) => [...localGet(p), ...i32Const(v), ...I32_ADD, ...localSet(p)];

/** local end = local p + (local n & mask) * 4: where a pointer stops after the values a loop of mask's steps covers. */
export const endAt = (end: number, p: number, n: number, mask = -1) => [
  ...localGet(p), ...localGet(n), ...(mask === -1 ? [] : [...i32Const(mask), ...I32_AND]), ...i32Const(2), ...I32_SHL, ...I32_ADD,
  ...localSet(end),
];

/** Until local ptrs[0] reaches local end: `step`, then every pointer in ptrs advances `bytes`. */
export const forPtr = (ptrs: number[], end: number, bytes: number, step: number[]) => [
  ...BLOCK_LOOP,
  ...localGet(ptrs[0]), ...localGet(end), ...I32_GE_U, 0x0d, 1, // br_if 1: done
  ...step,
  ...ptrs.flatMap((p) => add(p, bytes)),
  ...NEXT_END,
];

/** Runs `body` for idx = 0 .. count - 1 (idx, count: i32 locals; idx is set to 0 first). */
export const forCount = (idx: number, count: number, body: number[]) => [
  ...i32Const(0), ...localSet(idx),
  ...BLOCK_LOOP,
  ...localGet(idx), ...localGet(count), ...I32_GE_U, 0x0d, 1,
  ...body,
  ...add(idx, 1),
  ...NEXT_END,
];

/** if (local p < local end) { body }. */
export const ifBelow = (p: number, end: number, body: number[]) => [...localGet(p), ...localGet(end), ...I32_LT_U, 0x04, 0x40, ...body, 0x0b];

/** One f32 at the address plus `offset` into lane 0 of a v128, the others zero (align 2^2). */
export const v128Load32Zero = (offset: number) => [...simd(0x5c), 2, ...uleb(offset)];
/** Lane `lane` (32 bits) of a v128 to the address plus `offset`. */
export const v128Store32Lane = (offset: number, lane: number) => [...simd(0x5a), 2, ...uleb(offset), lane];
/** Lane `lane` (64 bits) of a v128 to the address plus `offset`. */
export const v128Store64Lane = (offset: number, lane: number) => [...simd(0x5b), 3, ...uleb(offset), lane];

/**
 * `w` f32 (2: a pair; 1: one, lane 1 zero) at local p plus `offset` bytes, promoted to f64x2. The one-value form
 * runs a plane's or a range's last odd values with the same instructions, so that no step writes past the end.
 */
export const loadF64 = (w: 1 | 2, p: number, offset: number) => [
  ...localGet(p), ...(w === 2 ? v128Load64Zero(offset) : v128Load32Zero(offset)), ...F64X2_PROMOTE_LOW_F32X4,
];
/** Stores the low `w` f32 of a demoted f64x2 at the address on the stack plus `offset`. */
export const storeF32 = (w: 1 | 2, offset: number) => (w === 2 ? v128Store64Lane0(offset) : v128Store32Lane(offset, 0));

/**
 * A kernel body over rows of C values (C a multiple of 4), eight columns a loop step (then four if C mod 8 = 4):
 * `step(u)` handles four columns, at byte offset 16 u from the data pointers (locals `data`, operands indexed
 * alike, the first bounding the loop over local n values) and 32 u from local `cursor`, the step's place in the
 * per-column float64 tables (reset to local `tables` with each row; table j lies j * tableBytes further on). Why
 * eight columns a step and one cursor for all tables: every operand has its own pointer, and advancing fewer of
 * them less often, with fewer live registers, took 15-30% off the (N, C) BatchNorm kernels. `end` and `rowEnd`
 * are i32 scratch locals.
 */
export function rowsLoop(
  data: number[], loc: { n: number; C: number; tables: number; cursor: number; end: number; rowEnd: number }, step: (u: 0 | 1) => number[],
): number[] {
  const p = data[0];
  const advance = (u: number) => [...data.flatMap((d) => add(d, 16 * u)), ...add(loc.cursor, 32 * u)];
  return [
    ...endAt(loc.end, p, loc.n),
    ...BLOCK_LOOP,
    ...localGet(p), ...localGet(loc.end), ...I32_GE_U, 0x0d, 1,
    ...endAt(loc.rowEnd, p, loc.C),
    ...localGet(loc.tables), ...localSet(loc.cursor),
    ...BLOCK_LOOP,
    // while p + 32 <= rowEnd: eight columns
    ...localGet(p), ...i32Const(32), ...I32_ADD, ...localGet(loc.rowEnd), ...I32_GT_U, 0x0d, 1,
    ...step(0), ...step(1),
    ...advance(2),
    ...NEXT_END,
    ...ifBelow(p, loc.rowEnd, [...step(0), ...advance(1)]),
    ...NEXT_END,
  ];
}
