// The WebAssembly SIMD optimizer update on the heap: y = f32(y + alpha x) in float64 lanes, bit-identical to the loop.
import { F32X4_DEMOTE_F64X2_ZERO, F64, F64X2_ADD, F64X2_MUL, F64X2_SPLAT, I32, V128, localGet, localSet, v128Store64Lane0 } from '../wasm/asm.js';
import { CHUNK, END_FUNCTION, endAt, forPtr, instantiateOnHeap, loadF64, scratchRegions, staged } from './build.js';

/**
 * axpy(y, x, n, alpha): y = f32(y + alpha * x), the product and sum in float64 (as `w[i] -= lr * g[i]` in
 * JavaScript), two pairs per step (n a multiple of 4). Why: V8 runs the loop scalar at ~2 ns per element.
 */
// Locals: y 0, x 1, n 2, alpha 3 (f64), END 4 (i32), ALPHA 5 (v128, alpha in both lanes).
const axpy = {
  name: 'axpy',
  params: [I32, I32, I32, F64],
  locals: [[1, I32], [1, V128]],
  body: [
    ...localGet(3), ...F64X2_SPLAT, ...localSet(5),
    ...endAt(4, 0, 2),
    ...forPtr([0, 1], 4, 16, [0, 8].flatMap((o) => [
      ...localGet(0), ...loadF64(2, 0, o), ...loadF64(2, 1, o), ...localGet(5), ...F64X2_MUL, ...F64X2_ADD, ...F32X4_DEMOTE_F64X2_ZERO,
      ...v128Store64Lane0(o),
    ])),
    ...END_FUNCTION,
  ],
};

/** y[i] = f32(y[i] + alpha x[i]) over y's length on the heap (copy path for arrays outside it), or null where it cannot load. */
export function createAxpySimd(): ((y: Float32Array, x: Float32Array, alpha: number) => void) | null {
  const m = instantiateOnHeap([axpy]);
  const regions = scratchRegions(2);
  if (m === null || regions === null) return null;
  const run = m.exports.axpy as (y: number, x: number, n: number, alpha: number) => void;
  const heap = m.heap;
  const per = { copy: CHUNK, direct: Infinity };
  return (y, x, alpha) => {
    const n = y.length;
    const n4 = n & ~3;
    staged(heap, regions, [y, x], { reads: 3, writes: 1 }, { start: 0, end: n4, per }, (p, _off, len) => run(p[0], p[1], len, alpha));
    for (let i = n4; i < n; i++) y[i] += alpha * x[i];
  };
}
