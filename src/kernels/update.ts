// The optimizers' update y += alpha x (Kernels.axpy of the ts and wasm backends): the float64 loop and its WebAssembly SIMD form.
import { createAxpySimd } from './simd/update.js';

/** Kernels.axpy's signature: y += alpha * x over the first n values. */
export type Axpy = (n: number, alpha: number, x: Float32Array, y: Float32Array) => void;

/**
 * y[i] = f32(y[i] + alpha * x[i]) for i < n: the product and the sum in float64 and one rounding, so SGD's
 * p -= lr * g is axpy(n, -lr, g, p) with the bits of `p[i] -= lr * g[i]`.
 */
export const axpyLoop: Axpy = (n, alpha, x, y) => {
  for (let i = 0; i < n; i++) y[i] += alpha * x[i];
};

/** Below this many values the call costs more than the kernel saves. */
const MIN_SIMD = 64;

let simd: Axpy | null | undefined;

/** axpyLoop on WebAssembly SIMD (bit-identical, ~5x faster on long vectors), or null where it cannot load. */
export function axpySimd(): Axpy | null {
  if (simd !== undefined) return simd;
  const run = createAxpySimd();
  simd = run === null ? null : (n, alpha, x, y) => (n < MIN_SIMD ? axpyLoop(n, alpha, x, y) : run(y.subarray(0, n), x, alpha));
  return simd;
}
