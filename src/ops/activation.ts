// Activations: relu, sigmoid, tanh, and softmax / logSoftmax along a dimension.
import { record } from '../autograd/record.js';
import { Tensor } from '../tensor/tensor.js';
import { allocUninit } from '../tensor/alloc.js';
import { kernels } from '../kernels/select.js';
import { expectTensor, normAxis } from './util.js';

/**
 * max(x, 0); gradient 1 where x > 0 (0 at x = 0, as PyTorch). Computed on the float bits (see ActivationKernels):
 * a set sign bit (negative, -0, and a NaN with its sign bit set) gives +0; a NaN without it stays NaN.
 */
export function relu(x: Tensor): Tensor {
  return pointwise('relu', x);
}

/**
 * 1 / (1 + e^-x); dy/dx = y (1 - y). Computed by a WebAssembly SIMD kernel where available (within 2 float32 ulps
 * of the float64 formula; 0 below x = -88.4 where the exact value is under 1e-38), else by Math.exp.
 */
export function sigmoid(x: Tensor): Tensor {
  return pointwise('sigmoid', x);
}

/** tanh(x); dy/dx = 1 - y^2. */
export function tanh(x: Tensor): Tensor {
  return pointwise('tanh', x);
}

type Pointwise = 'relu' | 'sigmoid' | 'tanh';

/**
 * gx += g * dy/dx from the output y, for a gradient that is already there (the kernels' *Grad write a fresh one).
 * Float64 per element, one rounding, as the kernels.
 */
const ACCUMULATE: Record<Pointwise, (g: Float32Array, y: Float32Array, gx: Float32Array) => void> = {
  relu: (g, y, gx) => {
    for (let i = 0; i < gx.length; i++) if (y[i] > 0) gx[i] += g[i];
  },
  sigmoid: (g, y, gx) => {
    for (let i = 0; i < gx.length; i++) gx[i] += g[i] * y[i] * (1 - y[i]);
  },
  tanh: (g, y, gx) => {
    for (let i = 0; i < gx.length; i++) gx[i] += g[i] * (1 - y[i] * y[i]);
  },
};

/** An elementwise activation: the kernel family's forward, its gradient kernel into a fresh gradient, else accumulate. */
function pointwise(op: Pointwise, x: Tensor): Tensor {
  expectTensor(op, 'x', x);
  const out = allocUninit(x.data.length); // written in full below
  const k = kernels().activation;
  k[op](x.data, out);
  return record(new Tensor(out, x.shape), op, [x], (g) => {
    if (x.grad === null) k[`${op}Grad`](g, out, x.freshGrad());
    else ACCUMULATE[op](g, out, x.grad);
  });
}

/** Views x as (outer, D, inner) around `dim` so both softmaxes loop the same way. */
function split(x: Tensor, dim: number, op: string) {
  const d = normAxis(op, dim, x.ndim);
  let outer = 1;
  let inner = 1;
  for (let i = 0; i < d; i++) outer *= x.shape[i];
  for (let i = d + 1; i < x.ndim; i++) inner *= x.shape[i];
  return { outer, D: x.shape[d], inner };
}

/** Max and sum(e^(x - max)) of one slice x[base + j*inner], j < D: the stable normalizer both softmaxes share. */
function maxAndSumExp(xd: Float32Array, base: number, D: number, inner: number): { mx: number; s: number } {
  let mx = -Infinity;
  for (let j = 0; j < D; j++) mx = Math.max(mx, xd[base + j * inner]);
  let s = 0;
  for (let j = 0; j < D; j++) s += Math.exp(xd[base + j * inner] - mx);
  return { mx, s };
}

/**
 * log softmax along `dim` (default last): x - max - log(sum(exp(x - max))), stable for large inputs.
 * dx = dy - softmax * sum(dy).
 */
export function logSoftmax(x: Tensor, dim = -1): Tensor {
  expectTensor('logSoftmax', 'x', x);
  const { outer, D, inner } = split(x, dim, 'logSoftmax');
  const xd = x.data;
  const out = new Float32Array(xd.length);
  for (let o = 0; o < outer; o++) {
    for (let q = 0; q < inner; q++) {
      const base = o * D * inner + q;
      const { mx, s } = maxAndSumExp(xd, base, D, inner);
      const lse = mx + Math.log(s);
      for (let j = 0; j < D; j++) out[base + j * inner] = xd[base + j * inner] - lse;
    }
  }
  return record(new Tensor(out, x.shape), 'logSoftmax', [x], (g) => {
    const gx = x.gradBuffer();
    for (let o = 0; o < outer; o++) {
      for (let q = 0; q < inner; q++) {
        const base = o * D * inner + q;
        let s = 0;
        for (let j = 0; j < D; j++) s += g[base + j * inner];
        for (let j = 0; j < D; j++) {
          const i = base + j * inner;
          gx[i] += g[i] - Math.exp(out[i]) * s;
        }
      }
    }
  });
}

/** softmax along `dim` (default last): e^(x - max) / sum. dx = y * (dy - sum(dy * y)). */
export function softmax(x: Tensor, dim = -1): Tensor {
  expectTensor('softmax', 'x', x);
  const { outer, D, inner } = split(x, dim, 'softmax');
  const xd = x.data;
  const out = new Float32Array(xd.length);
  for (let o = 0; o < outer; o++) {
    for (let q = 0; q < inner; q++) {
      const base = o * D * inner + q;
      const { mx, s } = maxAndSumExp(xd, base, D, inner);
      // e^(x - max) is recomputed rather than kept in the float32 output: dividing the float64 value rounds once.
      for (let j = 0; j < D; j++) out[base + j * inner] = Math.exp(xd[base + j * inner] - mx) / s;
    }
  }
  return record(new Tensor(out, x.shape), 'softmax', [x], (g) => {
    const gx = x.gradBuffer();
    for (let o = 0; o < outer; o++) {
      for (let q = 0; q < inner; q++) {
        const base = o * D * inner + q;
        let s = 0;
        for (let j = 0; j < D; j++) s += g[base + j * inner] * out[base + j * inner];
        for (let j = 0; j < D; j++) {
          const i = base + j * inner;
          gx[i] += out[i] * (g[i] - s);
        }
      }
    }
  });
}
