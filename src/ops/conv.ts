// conv2d by im2col + GEMM per image; backward: dW += dY col^T, dcol = W^T dY then col2im.
import { record } from '../autograd/record.js';
import { kernels } from '../kernels/select.js';
import { im2col, col2im, type ConvGeom } from '../kernels/ts/im2col.js';
import { Tensor } from '../tensor/tensor.js';
import { ArgumentError, ShapeError, fmtShape } from '../tensor/errors.js';
import { expectTensor } from './util.js';

export interface Conv2dOptions {
  /** Step of the window (default 1). */
  stride?: number;
  /** Zero padding on each side (default 0). */
  padding?: number;
}

/** Output size of a window sweep: floor((n + 2p - k) / s) + 1. */
export function outSize(n: number, k: number, s: number, p: number): number {
  return Math.floor((n + 2 * p - k) / s) + 1;
}

/** Checks stride/padding options shared by conv and pooling. */
export function checkWindow(op: string, stride: number, padding: number, k: number): void {
  if (!Number.isInteger(stride) || stride < 1) throw new ArgumentError(`${op}: stride must be a positive integer, got ${stride}`);
  if (!Number.isInteger(padding) || padding < 0) throw new ArgumentError(`${op}: padding must be a non-negative integer, got ${padding}`);
  if (padding * 2 > k && op !== 'conv2d') throw new ArgumentError(`${op}: padding ${padding} should be at most half of kernel size ${k}`);
}

/**
 * 2-d cross-correlation, PyTorch layout: x (N, C, H, W), weight (Cout, C, kh, kw), bias (Cout) or null.
 * out[n, o] = sum_{c,i,j} W[o, c, i, j] x[n, c, y*s+i-p, x*s+j-p] + b[o].
 */
export function conv2d(x: Tensor, weight: Tensor, bias: Tensor | null = null, opts: Conv2dOptions = {}): Tensor {
  expectTensor('conv2d', 'x', x);
  expectTensor('conv2d', 'weight', weight);
  const stride = opts.stride ?? 1;
  const pad = opts.padding ?? 0;
  if (weight.ndim !== 4) throw new ShapeError(`conv2d: weight must be (out_channels, in_channels, kh, kw), got ${fmtShape(weight.shape)}`);
  const [cout, cin, kh, kw] = weight.shape;
  if (x.ndim !== 4 || x.shape[1] !== cin) {
    throw new ShapeError(`conv2d: expected input of shape (N, ${cin}, H, W), got ${fmtShape(x.shape)}`);
  }
  if (bias !== null) expectTensor('conv2d', 'bias', bias);
  if (bias !== null && (bias.ndim !== 1 || bias.shape[0] !== cout)) throw new ShapeError(`conv2d: bias must have shape [${cout}], got ${fmtShape(bias.shape)}`);
  checkWindow('conv2d', stride, pad, Math.max(kh, kw));
  const [n, , h, w] = x.shape;
  const ho = outSize(h, kh, stride, pad);
  const wo = outSize(w, kw, stride, pad);
  if (ho < 1 || wo < 1) throw new ShapeError(`conv2d: input ${fmtShape(x.shape)} is smaller than kernel ${kh}x${kw} with padding ${pad}`);
  const g: ConvGeom = { c: cin, h, w, kh, kw, stride, pad, ho, wo };
  const ckk = cin * kh * kw;
  const plane = ho * wo;
  const col = new Float32Array(ckk * plane);
  const out = new Float32Array(n * cout * plane);
  const K = kernels();
  for (let b = 0; b < n; b++) {
    im2col(x.data, b * cin * h * w, g, col);
    const o = out.subarray(b * cout * plane, (b + 1) * cout * plane);
    if (bias !== null) for (let co = 0; co < cout; co++) o.fill(bias.data[co], co * plane, (co + 1) * plane);
    K.gemm(false, false, cout, plane, ckk, 1, weight.data, ckk, col, plane, bias !== null ? 1 : 0, o, plane);
  }
  return record(new Tensor(out, [n, cout, ho, wo]), 'conv2d', [x, weight, bias], (gy) => {
    const dcol = x.requiresGrad ? new Float32Array(ckk * plane) : null;
    for (let b = 0; b < n; b++) {
      const gyb = gy.subarray(b * cout * plane, (b + 1) * cout * plane);
      if (weight.requiresGrad) {
        // Recompute the columns instead of keeping N of them alive between forward and backward.
        im2col(x.data, b * cin * h * w, g, col);
        K.gemm(false, true, cout, ckk, plane, 1, gyb, plane, col, plane, 1, weight.gradBuffer(), ckk);
      }
      if (dcol !== null) {
        K.gemm(true, false, ckk, plane, cout, 1, weight.data, ckk, gyb, plane, 0, dcol, plane);
        col2im(dcol, g, x.gradBuffer(), b * cin * h * w);
      }
    }
    if (bias !== null && bias.requiresGrad) {
      const gb = bias.gradBuffer();
      for (let b = 0; b < n; b++) {
        for (let co = 0; co < cout; co++) {
          let s = 0;
          const base = (b * cout + co) * plane;
          for (let i = 0; i < plane; i++) s += gy[base + i];
          gb[co] += s;
        }
      }
    }
  });
}
