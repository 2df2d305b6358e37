// Pooling over (N, C, H, W): max (remembers the winning index for backward) and average.
import { record } from '../autograd/record.js';
import { Tensor } from '../tensor/tensor.js';
import { ArgumentError, ShapeError, fmtShape } from '../tensor/errors.js';
import { checkWindow, outSize } from './conv.js';
import { expectTensor } from './util.js';

export interface Pool2dOptions {
  /** Window step (default: the kernel size, as PyTorch). */
  stride?: number;
  /** Padding on each side (default 0); max pooling pads with -inf, average with zeros. */
  padding?: number;
}

function geometry(op: string, x: Tensor, kernelSize: number, opts: Pool2dOptions) {
  expectTensor(op, 'x', x);
  if (!Number.isInteger(kernelSize) || kernelSize < 1) throw new ArgumentError(`${op}: kernelSize must be a positive integer, got ${kernelSize}`);
  if (x.ndim !== 4) throw new ShapeError(`${op}: expected input of shape (N, C, H, W), got ${fmtShape(x.shape)}`);
  const stride = opts.stride ?? kernelSize;
  const pad = opts.padding ?? 0;
  checkWindow(op, stride, pad, kernelSize);
  const [n, c, h, w] = x.shape;
  const ho = outSize(h, kernelSize, stride, pad);
  const wo = outSize(w, kernelSize, stride, pad);
  if (ho < 1 || wo < 1) throw new ShapeError(`${op}: input ${fmtShape(x.shape)} is smaller than the ${kernelSize}x${kernelSize} window`);
  return { n, c, h, w, ho, wo, stride, pad, k: kernelSize };
}

/** Max over each k x k window; the gradient goes to the (first) maximum. */
export function maxPool2d(x: Tensor, kernelSize: number, opts: Pool2dOptions = {}): Tensor {
  const { n, c, h, w, ho, wo, stride, pad, k } = geometry('maxPool2d', x, kernelSize, opts);
  const xd = x.data;
  const out = new Float32Array(n * c * ho * wo);
  const arg = new Int32Array(out.length);
  let o = 0;
  for (let p = 0; p < n * c; p++) {
    const base = p * h * w;
    for (let oy = 0; oy < ho; oy++) {
      for (let ox = 0; ox < wo; ox++, o++) {
        let best = -Infinity;
        let bi = -1;
        for (let i = 0; i < k; i++) {
          const iy = oy * stride + i - pad;
          if (iy < 0 || iy >= h) continue;
          for (let j = 0; j < k; j++) {
            const ix = ox * stride + j - pad;
            if (ix < 0 || ix >= w) continue;
            const v = xd[base + iy * w + ix];
            // NaN propagates as in PyTorch: a NaN wins.
            if (v > best || v !== v || bi < 0) {
              best = v;
              bi = base + iy * w + ix;
              if (v !== v) break;
            }
          }
        }
        out[o] = best;
        arg[o] = bi;
      }
    }
  }
  return record(new Tensor(out, [n, c, ho, wo]), 'maxPool2d', [x], (g) => {
    const gx = x.gradBuffer();
    for (let i = 0; i < g.length; i++) gx[arg[i]] += g[i];
  });
}

/** Mean over each k x k window, counting padded zeros (PyTorch's count_include_pad=True). */
export function avgPool2d(x: Tensor, kernelSize: number, opts: Pool2dOptions = {}): Tensor {
  const { n, c, h, w, ho, wo, stride, pad, k } = geometry('avgPool2d', x, kernelSize, opts);
  const xd = x.data;
  const out = new Float32Array(n * c * ho * wo);
  const inv = 1 / (k * k);
  let o = 0;
  for (let p = 0; p < n * c; p++) {
    const base = p * h * w;
    for (let oy = 0; oy < ho; oy++) {
      for (let ox = 0; ox < wo; ox++, o++) {
        let s = 0;
        for (let i = 0; i < k; i++) {
          const iy = oy * stride + i - pad;
          if (iy < 0 || iy >= h) continue;
          for (let j = 0; j < k; j++) {
            const ix = ox * stride + j - pad;
            if (ix >= 0 && ix < w) s += xd[base + iy * w + ix];
          }
        }
        out[o] = s * inv;
      }
    }
  }
  return record(new Tensor(out, [n, c, ho, wo]), 'avgPool2d', [x], (g) => {
    const gx = x.gradBuffer();
    let o2 = 0;
    for (let p = 0; p < n * c; p++) {
      const base = p * h * w;
      for (let oy = 0; oy < ho; oy++) {
        for (let ox = 0; ox < wo; ox++, o2++) {
          const gv = g[o2] * inv;
          for (let i = 0; i < k; i++) {
            const iy = oy * stride + i - pad;
            if (iy < 0 || iy >= h) continue;
            for (let j = 0; j < k; j++) {
              const ix = ox * stride + j - pad;
              if (ix >= 0 && ix < w) gx[base + iy * w + ix] += gv;
            }
          }
        }
      }
    }
  });
}
