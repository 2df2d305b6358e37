// WebAssembly SIMD reductions on the heap for bias gradients: column sums (Linear) and plane sums (Conv2d), bit-identical to their loops.
import { F64X2_ADD, F64X2_SPLAT, I32, I32_GE_U, V128, f64Const, localGet, localSet, simd, uleb, v128Load } from '../wasm/asm.js';
import {
  BLOCK_LOOP, CHUNK, END_FUNCTION, NEXT_END, add, allResident, endAt, forPtr, instantiateOnHeap, loadF64, rowsLoop, scratchRegions, staged,
} from './build.js';
import { allocStatic } from '../../tensor/heap.js';

const V128_STORE_AT = (offset: number) => [...simd(0x0b), 2, ...uleb(offset)];

/**
 * colSums(x, n, C, sums): sums[c] += x[r, c] over the rows of the n values at x (C a multiple of 4), each column
 * in row order in float64 (sums: C float64), as the loop.
 */
// Locals: x 0, n 1, C 2, sums 3; END 4, ROW_END 5, SUM 6 (the table cursor).
const colSums = {
  name: 'colSums',
  params: [I32, I32, I32, I32],
  locals: [[3, I32]],
  body: [
    ...rowsLoop([0], { n: 1, C: 2, tables: 3, cursor: 6, end: 4, rowEnd: 5 }, (u) => [0, 1].flatMap((h) => [
      ...localGet(6), ...localGet(6), ...v128Load(32 * u + 16 * h), ...loadF64(2, 0, 16 * u + 8 * h), ...F64X2_ADD, ...V128_STORE_AT(32 * u + 16 * h),
    ])),
    ...END_FUNCTION,
  ],
};

/**
 * planeSums(g, n, plane, out): per plane of `plane` floats (a multiple of 4) in the n values at g, the four running
 * sums of the loop (s_j over the values at j mod 4) in float64, stored at out + 32 q as (s0, s1, s2, s3).
 */
// Locals: g 0, n 1, plane 2, out 3; END 4, PLANE_END 5 (i32); S01 6, S23 7 (v128).
const planeSums = {
  name: 'planeSums',
  params: [I32, I32, I32, I32],
  locals: [[2, I32], [2, V128]],
  body: [
    ...endAt(4, 0, 1),
    ...BLOCK_LOOP,
    ...localGet(0), ...localGet(4), ...I32_GE_U, 0x0d, 1,
    ...endAt(5, 0, 2),
    ...f64Const(0), ...F64X2_SPLAT, ...localSet(6), ...f64Const(0), ...F64X2_SPLAT, ...localSet(7),
    ...forPtr([0], 5, 16, [0, 1].flatMap((h) => [...localGet(6 + h), ...loadF64(2, 0, 8 * h), ...F64X2_ADD, ...localSet(6 + h)])),
    ...localGet(3), ...localGet(6), ...V128_STORE_AT(0), ...localGet(3), ...localGet(7), ...V128_STORE_AT(16),
    ...add(3, 32),
    ...NEXT_END,
    ...END_FUNCTION,
  ],
};

/** Most columns the column-sum table holds (wider inputs run the loop). */
export const MAX_COLS = 4096;
/** Most planes per planeSums call (its output table). */
const MAX_PLANES = 1024;

/** The reductions on arrays: false (nothing written) where the kernel does not take the shape. */
export interface ReductionSimd {
  columnSums(x: Float32Array, rows: number, C: number, sums: Float64Array): boolean;
  planeSums(g: Float32Array, N: number, C: number, plane: number, s: Float64Array): boolean;
}

/** Instantiates the module on the heap with one copy region and its tables; null where it cannot load. */
export function createReductionSimd(): ReductionSimd | null {
  const m = instantiateOnHeap([colSums, planeSums]);
  const regions = scratchRegions(1);
  const table = allocStatic(8 * Math.max(MAX_COLS, 4 * MAX_PLANES));
  if (m === null || regions === null || table === null) return null;
  const heap = m.heap;
  const t = table >> 3;
  const run = {
    colSums: m.exports.colSums as (x: number, n: number, C: number, sums: number) => void,
    planeSums: m.exports.planeSums as (g: number, n: number, plane: number, out: number) => void,
  };
  return {
    columnSums(x, rows, C, sums) {
      if (C % 4 !== 0 || C === 0 || C > MAX_COLS) return false;
      heap.f64.fill(0, t, t + C);
      const per = { copy: Math.floor(CHUNK / C) * C, direct: Infinity };
      staged(heap, regions, [x], { reads: 1, writes: 0 }, { start: 0, end: rows * C, per }, (p, _off, len) => run.colSums(p[0], len, C, table));
      sums.set(heap.f64.subarray(t, t + C));
      return true;
    },
    planeSums(g, N, C, plane, s) {
      // The copy path holds whole planes (a plane's four sums must not be split).
      if (plane % 4 !== 0 || plane === 0 || (plane > CHUNK && !allResident([g]))) return false;
      const per = { copy: Math.min(Math.floor(CHUNK / plane), MAX_PLANES) * plane, direct: MAX_PLANES * plane };
      const f64 = heap.f64;
      staged(heap, regions, [g], { reads: 1, writes: 0 }, { start: 0, end: N * C * plane, per }, (p, off, len) => {
        run.planeSums(p[0], len, plane, table);
        for (let q = 0, c = (off / plane) % C, o = t; q < len / plane; q++, o += 4) {
          s[c] += f64[o] + f64[o + 1] + f64[o + 2] + f64[o + 3];
          if (++c === C) c = 0;
        }
      });
      return true;
    },
  };
}
