// The activation family: relu, sigmoid, tanh and their gradients, as plain loops and on WebAssembly SIMD (simd/activation.ts).
import type { ActivationKernels } from './families.js';
import { bits, createActivationSimd, type ActivationSimd } from './simd/activation.js';

/**
 * The plain loops (any runtime). relu works on the float bits: a compare-and-branch per element mispredicts half
 * the time on zero-mean inputs; the bit form has no branch.
 */
export const activationLoops: ActivationKernels = {
  relu(x, out) {
    const xi = bits(x);
    const oi = bits(out);
    for (let i = 0, n = x.length; i < n; i++) {
      const v = xi[i];
      oi[i] = v & ~(v >> 31);
    }
  },
  reluGrad(g, y, gx) {
    const gi = bits(g);
    const yi = bits(y);
    const oi = bits(gx);
    for (let i = 0, n = g.length; i < n; i++) oi[i] = gi[i] & (-yi[i] >> 31);
  },
  sigmoid(x, out) {
    for (let i = 0, n = x.length; i < n; i++) out[i] = 1 / (1 + Math.exp(-x[i]));
  },
  sigmoidGrad(g, y, gx) {
    for (let i = 0, n = g.length; i < n; i++) gx[i] = g[i] * y[i] * (1 - y[i]);
  },
  tanh(x, out) {
    for (let i = 0, n = x.length; i < n; i++) out[i] = Math.tanh(x[i]);
  },
  tanhGrad(g, y, gx) {
    for (let i = 0, n = g.length; i < n; i++) gx[i] = g[i] * (1 - y[i] * y[i]);
  },
};

/** Below this many values a call and its setup cost more than the kernel saves (sigmoid excepted: see below). */
const MIN_SIMD = 64;

let simd: { kernels: ActivationKernels; raw: ActivationSimd } | null | undefined;

/**
 * The WebAssembly SIMD activations (relu, sigmoid and their gradients; tanh runs its loop), or null where they
 * cannot load (no SIMD, BNLAB_SIMD=0, no heap). sigmoid takes the kernel at every length, so that a value's
 * sigmoid does not depend on the length of the tensor holding it.
 */
export function activationSimd(): ActivationKernels | null {
  return loadSimd()?.kernels ?? null;
}

/** The module's wrappers themselves, for the BatchNorm family's fused sigmoid (null as activationSimd). */
export function activationSimdRaw(): ActivationSimd | null {
  return loadSimd()?.raw ?? null;
}

function loadSimd() {
  if (simd !== undefined) return simd;
  const raw = createActivationSimd();
  if (raw === null) return (simd = null);
  const L = activationLoops;
  const kernels: ActivationKernels = {
    relu: (x, out) => (x.length < MIN_SIMD ? L.relu(x, out) : raw.relu(x, out)),
    reluGrad: (g, y, gx) => (g.length < MIN_SIMD ? L.reluGrad(g, y, gx) : raw.reluGrad(g, y, gx)),
    sigmoid: (x, out) => raw.sigmoid(x, out),
    sigmoidGrad: (g, y, gx) => (g.length < MIN_SIMD ? L.sigmoidGrad(g, y, gx) : raw.sigmoidGrad(g, y, gx)),
    tanh: L.tanh,
    tanhGrad: L.tanhGrad,
  };
  return (simd = { kernels, raw });
}
