// Pooling over (N, C, H, W): max (remembers the winning index for backward), relu fused with max, average, and global average.
import { needsGrad, record } from '../autograd/record.js';
import { Tensor } from '../tensor/tensor.js';
import { allocUninit } from '../tensor/alloc.js';
import { ArgumentError, ShapeError, fmtShape } from '../tensor/errors.js';
import { checkWindow, outSize } from './conv.js';
import { relu } from './activation.js';
import { kernels } from '../kernels/select.js';
import type { PoolGeom2 } from '../kernels/kernels.js';
import { releaseBuffer } from '../tensor/pool.js';
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
 * tensor and its two passes (ReLUMaxPool2d, which fuseBatchNormAct puts in for a ReLU followed by MaxPool2d).
 * Works on the float bits: relu(v) = v & ~(v >> 31) is a non-negative float (or NaN), and such bit patterns
 * order as integers exactly as the floats do, with NaN above +inf; so the first largest relu'd value wins,
 * as in maxPool2d of relu's output. The gradient reaches x where the window's output is > 0 (or NaN), as relu's.
 */
export function reluMaxPool2d(x: Tensor, kernelSize: number, opts: Pool2dOptions = {}): Tensor {
  const geo = geometry('reluMaxPool2d', x, kernelSize, opts);
  if (geo.pad !== 0 || geo.stride !== geo.k) return maxPool2d(relu(x), kernelSize, opts);
  const { n, c, h, w, ho, wo, k } = geo;
  // Every window is written below (by the kernel or the loop): no zero fill needed. The indices live in heap
  // storage too when large (allocUninit), so that the kernels use them in place. That storage goes back as soon
  // as nothing can read it (after the forward without a backward rule, else after the rule ran: a graph runs
  // once), so that a synchronous training loop takes no new heap each step.
  const out = allocUninit(n * c * ho * wo);
  const argStore = allocUninit(out.length);
  const arg = int32View(argStore);
  const pool = kernels().pooling;
  if (k === 2) pool.reluMaxPool2(x.data, { planes: n * c, h, w }, out, arg);
  else reluMaxPoolK(x.data, geo, out, arg);
  if (!needsGrad(x)) {
    releaseBuffer(argStore);
    return record(new Tensor(out, [n, c, ho, wo]), 'reluMaxPool2d', [x], () => {});
  }
  return record(new Tensor(out, [n, c, ho, wo]), 'reluMaxPool2d', [x], (g) => {
    reluMaxPool2Backward(g, x, { out, arg, k, geom: { planes: n * c, h, w } });
    releaseBuffer(argStore);
  });
}

/** reluMaxPool2d's backward: g to the winner of each window where its output is > 0 (or NaN). */
function reluMaxPool2Backward(g: Float32Array, x: Tensor, saved: { out: Float32Array; arg: Int32Array; k: number; geom: PoolGeom2 }): void {
  const { out, arg, k, geom } = saved;
  if (x.grad === null) {
    const gx = x.freshGrad();
    if (k === 2) {
      kernels().pooling.reluMaxPool2Grad(g, out, arg, geom, gx);
      return;
    }
    // Disjoint windows: each input gets at most one value; masked to +0 where the output is 0 (relu's gradient).
    gx.fill(0);
    const gi = int32View(g);
    const oi = int32View(out);
    const gxi = int32View(gx);
    for (let i = 0; i < g.length; i++) gxi[arg[i]] = gi[i] & (-oi[i] >> 31);
  } else {
    const gx = x.grad;
    for (let i = 0; i < g.length; i++) if (out[i] > 0) gx[arg[i]] += g[i];
  }
}

/** The Int32 view of a Float32Array's bits. */
function int32View(a: Float32Array): Int32Array {
  return new Int32Array(a.buffer, a.byteOffset, a.length);
}

/** reluMaxPool2d's forward for windows of k x k other than 2 x 2 (stride k, no padding): the first largest relu'd value wins. */
function reluMaxPoolK(xd: Float32Array, geo: PoolGeom, out: Float32Array, arg: Int32Array): void {
  const { n, c, h, w, ho, wo, k } = geo;
  const xi = int32View(xd);
  const oi = int32View(out);
  let o = 0;
  for (let p = 0; p < n * c; p++) {
    const base = p * h * w;
    for (let oy = 0; oy < ho; oy++) {
      const r0 = base + oy * k * w;
      for (let ox = 0; ox < wo; ox++, o++) {
        const i0 = r0 + ox * k;
        let bi = i0;
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
        oi[o] = reluBits(xi[bi]);
        arg[o] = bi;
      }
    }
  }
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

/**
 * Global average pooling, PyTorch's adaptive_avg_pool2d(x, 1): x (N, C, H, W) -> (N, C, 1, 1) (the shape PyTorch
 * keeps; a Flatten after it gives (N, C) as a view). y[n, c] = mean over the plane of x[n, c] (float64 sums);
 * dx[n, c, i, j] = dy[n, c] / (H W).
 */
export function globalAvgPool2d(x: Tensor): Tensor {
  expectTensor('globalAvgPool2d', 'x', x);
  if (x.ndim !== 4) throw new ShapeError(`globalAvgPool2d: expected input of shape (N, C, H, W), got ${fmtShape(x.shape)}`);
  const [n, c, h, w] = x.shape;
  if (h * w === 0) throw new ShapeError(`globalAvgPool2d: input ${fmtShape(x.shape)} has an empty plane to average`);
  const plane = h * w;
  const planes = n * c;
  const xd = x.data;
  const out = new Float32Array(planes);
  for (let p = 0; p < planes; p++) {
    let s = 0;
    const base = p * plane;
    for (let i = 0; i < plane; i++) s += xd[base + i];
    out[p] = s / plane;
  }
  return record(new Tensor(out, [n, c, 1, 1]), 'globalAvgPool2d', [x], (g) => {
    const fresh = x.grad === null;
    const gx = x.grad ?? x.freshGrad();
    for (let p = 0; p < planes; p++) {
      const v = g[p] / plane;
      const row = gx.subarray(p * plane, (p + 1) * plane);
      if (fresh) row.fill(v);
      else for (let i = 0; i < plane; i++) row[i] += v;
    }
  });
}
