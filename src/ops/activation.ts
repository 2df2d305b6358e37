// Activations: relu, sigmoid, tanh, and softmax / logSoftmax along a dimension.
import { record } from '../autograd/record.js';
import { Tensor } from '../tensor/tensor.js';
import { expectTensor, normAxis } from './util.js';

/** max(x, 0); gradient 1 where x > 0 (0 at x = 0, as PyTorch). */
export function relu(x: Tensor): Tensor {
  expectTensor('relu', 'x', x);
  const xd = x.data;
  const n = xd.length;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = xd[i] > 0 ? xd[i] : 0;
  return record(new Tensor(out, x.shape), 'relu', [x], (g) => {
    const gx = x.gradBuffer();
    for (let i = 0; i < n; i++) if (out[i] > 0) gx[i] += g[i];
  });
}

/** 1 / (1 + e^-x); dy/dx = y (1 - y). */
export function sigmoid(x: Tensor): Tensor {
  expectTensor('sigmoid', 'x', x);
  const xd = x.data;
  const n = xd.length;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = 1 / (1 + Math.exp(-xd[i]));
  return record(new Tensor(out, x.shape), 'sigmoid', [x], (g) => {
    const gx = x.gradBuffer();
    for (let i = 0; i < n; i++) {
      const y = out[i];
      gx[i] += g[i] * y * (1 - y);
    }
  });
}

/** tanh(x); dy/dx = 1 - y^2. */
export function tanh(x: Tensor): Tensor {
  expectTensor('tanh', 'x', x);
  const xd = x.data;
  const n = xd.length;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.tanh(xd[i]);
  return record(new Tensor(out, x.shape), 'tanh', [x], (g) => {
    const gx = x.gradBuffer();
    for (let i = 0; i < n; i++) {
      const y = out[i];
      gx[i] += g[i] * (1 - y * y);
    }
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
      let mx = -Infinity;
      for (let j = 0; j < D; j++) mx = Math.max(mx, xd[base + j * inner]);
      let s = 0;
      for (let j = 0; j < D; j++) s += Math.exp(xd[base + j * inner] - mx);
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
      let mx = -Infinity;
      for (let j = 0; j < D; j++) mx = Math.max(mx, xd[base + j * inner]);
      let s = 0;
      for (let j = 0; j < D; j++) s += Math.exp(xd[base + j * inner] - mx);
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
