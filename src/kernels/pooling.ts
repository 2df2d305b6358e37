// The pooling family: relu fused with 2x2 stride-2 max pooling, forward and backward, as plain loops and on WebAssembly SIMD.
import type { PoolingKernels } from './families.js';
import { createPoolingSimd } from './simd/pooling.js';

/** Int32 view of a Float32Array's bits. */
function bits(a: Float32Array): Int32Array {
  return new Int32Array(a.buffer, a.byteOffset, a.length);
}

/** relu on float bits: +0 for a set sign bit, else the bits unchanged. */
function reluBits(v: number): number {
  return v & ~(v >> 31);
}

/**
 * The plain loops (any runtime). Indices move by 0/1 comparisons, with no data-dependent branch (a compare and
 * branch per value mispredicts about half the time on activations).
 */
export const poolingLoops: PoolingKernels = {
  reluMaxPool2(x, { planes, h, w }, out, arg) {
    const ho = h >> 1;
    const wo = w >> 1;
    const xi = bits(x);
    const oi = bits(out);
    let o = 0;
    for (let p = 0; p < planes; p++) {
      const base = p * h * w;
      for (let oy = 0; oy < ho; oy++) {
        const r0 = base + 2 * oy * w;
        for (let ox = 0; ox < wo; ox++, o++) {
          const i0 = r0 + 2 * ox;
          const i2 = i0 + w;
          const top = i0 + +(reluBits(xi[i0 + 1]) > reluBits(xi[i0]));
          const bottom = i2 + +(reluBits(xi[i2 + 1]) > reluBits(xi[i2]));
          const bi = top + (bottom - top) * +(reluBits(xi[bottom]) > reluBits(xi[top]));
          oi[o] = reluBits(xi[bi]);
          arg[o] = bi;
        }
      }
    }
  },
  reluMaxPool2Grad(g, out, arg, _geom, gx) {
    // Disjoint windows: each input gets at most one value; masked to +0 where the output is 0 (relu's gradient).
    gx.fill(0);
    const gi = bits(g);
    const oi = bits(out);
    const gxi = bits(gx);
    for (let i = 0; i < g.length; i++) gxi[arg[i]] = gi[i] & (-oi[i] >> 31);
  },
};

let simd: PoolingKernels | null | undefined;

/**
 * relu + 2x2 max pooling on WebAssembly SIMD (four windows per step, measured ~3x faster; the same values and
 * indices), or null where it cannot load; shapes the kernels do not take (odd h; odd w in the backward) run the loops.
 */
export function poolingSimd(): PoolingKernels | null {
  if (simd !== undefined) return simd;
  const raw = createPoolingSimd();
  const L = poolingLoops;
  simd =
    raw === null
      ? null
      : {
          reluMaxPool2: (x, geom, out, arg) => raw.reluMaxPool2(x, geom.planes, geom.h, geom.w, out, arg) || L.reluMaxPool2(x, geom, out, arg),
          reluMaxPool2Grad: (g, out, arg, geom, gx) =>
            raw.reluMaxPool2Grad(g, out, arg, geom.planes, geom.h, geom.w, gx) || L.reluMaxPool2Grad(g, out, arg, geom, gx),
        };
  return simd;
}
