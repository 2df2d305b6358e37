// Pooling over (N, C, H, W): max (remembers the winning index for backward), relu fused with max, and average.
import { record } from '../autograd/record.js';
import { Tensor } from '../tensor/tensor.js';
import { allocUninit } from '../tensor/alloc.js';
import { ArgumentError, ShapeError, fmtShape } from '../tensor/errors.js';
import { checkWindow, outSize } from './conv.js';
import { relu } from './activation.js';
import { reluMaxPool2GradInto, reluMaxPool2Into } from '../kernels/ts/simd.js';
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

/** Max over each k x k window; the gradient goes to the first maximum; a NaN wins (the first one). */
export function maxPool2d(x: Tensor, kernelSize: number, opts: Pool2dOptions = {}): Tensor {
  const geo = geometry('maxPool2d', x, kernelSize, opts);
  const { n, c, ho, wo } = geo;
  const out = new Float32Array(n * c * ho * wo);
  const arg = new Int32Array(out.length);
  // Windows that tile the image without padding (the usual 2x2, stride 2) need no bounds tests.
  if (geo.pad === 0 && geo.stride === geo.k) maxPoolTiled(x.data, geo, out, arg);
  else maxPoolGeneral(x.data, geo, out, arg);
  const disjoint = geo.stride >= geo.k;
  return record(new Tensor(out, [n, c, ho, wo]), 'maxPool2d', [x], (g) => {
    if (disjoint && x.grad === null) {
      // Windows do not overlap, so each input receives at most one value: assign instead of add.
      const gx = x.freshGrad().fill(0);
      for (let i = 0; i < g.length; i++) gx[arg[i]] = g[i];
    } else {
      const gx = x.gradBuffer();
      for (let i = 0; i < g.length; i++) gx[arg[i]] += g[i];
    }
  });
}

type PoolGeom = ReturnType<typeof geometry>;

/** Max pooling when stride = k and pad = 0: every window lies inside the image. */
function maxPoolTiled(xd: Float32Array, geo: PoolGeom, out: Float32Array, arg: Int32Array): void {
  const { n, c, h, w, ho, wo, k } = geo;
  let o = 0;
  for (let p = 0; p < n * c; p++) {
    const base = p * h * w;
    for (let oy = 0; oy < ho; oy++) {
      const r0 = base + oy * k * w;
      for (let ox = 0; ox < wo; ox++, o++) {
        const i0 = r0 + ox * k;
        const i2 = i0 + w;
        let bi = i0;
        // 2x2 without data-dependent branches (a compare-and-branch per value mispredicts about half the time on
        // activations): comparisons become 0/1 that move an index, so the first maximum wins ties as in the loop
        // below; measured 3.2x faster. The sum is NaN only if a value is NaN (or infinities cancel): then the loop.
        const sum = xd[i0] + xd[i0 + 1] + xd[i2] + xd[i2 + 1];
        if (k === 2 && sum === sum) {
          const top = i0 + +(xd[i0 + 1] > xd[i0]);
          const bottom = i2 + +(xd[i2 + 1] > xd[i2]);
          bi = top + (bottom - top) * +(xd[bottom] > xd[top]);
        } else {
          let best = xd[i0];
          for (let i = 0; i < k; i++) {
            for (let j = i === 0 ? 1 : 0; j < k; j++) {
              const idx = i0 + i * w + j;
              const v = xd[idx];
              if (v > best || (v !== v && best === best)) {
                best = v;
                bi = idx;
              }
            }
          }
        }
        out[o] = xd[bi];
        arg[o] = bi;
      }
    }
  }
}

/**
 * maxPool2d(relu(x)) in one pass, for windows that tile the image (stride = k, padding 0; otherwise it composes
 * the two ops). Same values and gradients as the composition, ties and NaN included, without relu's output
 * tensor and its two passes (Sequential uses it for ReLU followed by MaxPool2d).
 * Works on the float bits: relu(v) = v & ~(v >> 31) is a non-negative float (or NaN), and such bit patterns
 * order as integers exactly as the floats do, with NaN above +inf; so the first largest relu'd value wins,
 * as in maxPool2d of relu's output. The gradient reaches x where the window's output is > 0 (or NaN), as relu's.
 */
export function reluMaxPool2d(x: Tensor, kernelSize: number, opts: Pool2dOptions = {}): Tensor {
  const geo = geometry('reluMaxPool2d', x, kernelSize, opts);
  if (geo.pad !== 0 || geo.stride !== geo.k) return maxPool2d(relu(x), kernelSize, opts);
  const { n, c, h, w, ho, wo, k } = geo;
  const xi = new Int32Array(x.data.buffer, x.data.byteOffset, x.size);
  // Every window is written below (by the kernel or the loop): no zero fill needed.
  const out = allocUninit(n * c * ho * wo);
  const oi = new Int32Array(out.buffer, out.byteOffset, out.length);
  const arg = new Int32Array(out.length);
  // 2x2 by the WebAssembly SIMD kernel when it applies (four windows per step, measured ~3x faster); else the loop.
  const simdDone = k === 2 && reluMaxPool2Into(x.data, n * c, h, w, out, arg);
  let o = 0;
  for (let p = simdDone ? n * c : 0; p < n * c; p++) {
    const base = p * h * w;
    for (let oy = 0; oy < ho; oy++) {
      const r0 = base + oy * k * w;
      for (let ox = 0; ox < wo; ox++, o++) {
        const i0 = r0 + ox * k;
        let bi = i0;
        if (k === 2) {
          // Indices moved by 0/1 comparisons, no data-dependent branch (see maxPoolTiled).
          const i2 = i0 + w;
          const top = i0 + +(reluBits(xi[i0 + 1]) > reluBits(xi[i0]));
          const bottom = i2 + +(reluBits(xi[i2 + 1]) > reluBits(xi[i2]));
          bi = top + (bottom - top) * +(reluBits(xi[bottom]) > reluBits(xi[top]));
        } else {
          let best = reluBits(xi[i0]);
          for (let i = 0; i < k; i++) {
            for (let j = i === 0 ? 1 : 0; j < k; j++) {
              const v = reluBits(xi[i0 + i * w + j]);
              if (v > best) {
                best = v;
                bi = i0 + i * w + j;
              }
            }
          }
        }
        oi[o] = reluBits(xi[bi]);
        arg[o] = bi;
      }
    }
  }
  return record(new Tensor(out, [n, c, ho, wo]), 'reluMaxPool2d', [x], (g) => {
    const gi = new Int32Array(g.buffer, g.byteOffset, g.length);
    if (x.grad === null) {
      const gx = x.freshGrad();
      // The SIMD kernel writes all of gx (no zero fill first) where it applies.
      if (k === 2 && reluMaxPool2GradInto(g, out, arg, n * c, h, w, gx)) return;
      // Disjoint windows: each input gets at most one value; masked to +0 where the output is 0 (relu's gradient).
      gx.fill(0);
      const gxi = new Int32Array(gx.buffer, gx.byteOffset, gx.length);
      for (let i = 0; i < g.length; i++) gxi[arg[i]] = gi[i] & (-oi[i] >> 31);
    } else {
      const gx = x.grad;
      for (let i = 0; i < g.length; i++) if (oi[i] > 0) gx[arg[i]] += g[i];
    }
  });
}

/** relu on float bits: +0 for a set sign bit, else the bits unchanged. */
function reluBits(v: number): number {
  return v & ~(v >> 31);
}

/** Max pooling with any stride and padding (padding never wins). */
function maxPoolGeneral(xd: Float32Array, geo: PoolGeom, out: Float32Array, arg: Int32Array): void {
  const { n, c, h, w, ho, wo, stride, pad, k } = geo;
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
            if (v > best || (v !== v && best === best) || bi < 0) {
              best = v;
              bi = base + iy * w + ix;
            }
          }
        }
        out[o] = best;
        arg[o] = bi;
      }
    }
  }
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
