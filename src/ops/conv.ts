// conv2d by im2col + GEMM per image into reused scratch columns; backward: dW += dY col^T, dx by correlating dY
// with the flipped kernel (same convolutions) or by dcol = W^T dY and col2im.
import { record } from '../autograd/record.js';
import { kernels } from '../kernels/select.js';
import { im2col, col2im, type ConvGeom } from './im2col.js';
import { Tensor } from '../tensor/tensor.js';
import { allocUninit } from '../tensor/alloc.js';
import { ArgumentError, ShapeError, fmtShape } from '../tensor/errors.js';
import { expectTensor } from './util.js';

export interface Conv2dOptions {
  /** Step of the window (default 1). */
  stride?: number;
  /** Zero padding on each side (default 0). */
  padding?: number;
}

/**
 * Scratch for one image's columns (and, in backward, their gradient), grown on demand and shared by every conv2d
 * call: a column buffer lives only inside one call's loop over images, and calls never nest (single thread), so
 * one buffer per role serves all layers. Per image rather than one batched GEMM: the columns of an image
 * (225 KB for W3's second conv) stay in L2 between im2col and GEMM, and batching measured no faster.
 */
const scratch: Float32Array[] = [new Float32Array(0), new Float32Array(0)];

function scratchBuffer(role: 0 | 1, n: number): Float32Array {
  if (scratch[role].length < n) scratch[role] = new Float32Array(n);
  return scratch[role].subarray(0, n);
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
  if (bias !== null && (bias.ndim !== 1 || bias.shape[0] !== cout)) {
    throw new ShapeError(`conv2d: bias must have shape [${cout}], got ${fmtShape(bias.shape)}`);
  }
  checkWindow('conv2d', stride, pad, Math.max(kh, kw));
  const [n, , h, w] = x.shape;
  const ho = outSize(h, kh, stride, pad);
  const wo = outSize(w, kw, stride, pad);
  if (ho < 1 || wo < 1) throw new ShapeError(`conv2d: input ${fmtShape(x.shape)} is smaller than kernel ${kh}x${kw} with padding ${pad}`);
  const g: ConvGeom = { c: cin, h, w, kh, kw, stride, pad, ho, wo };
  const ckk = cin * kh * kw;
  const plane = ho * wo;
  // The bias rides in the GEMM as one more column of weights against a row of ones under the image's columns,
  // so the output is written once (no bias fill, no beta = 1 read of it).
  const kb = bias !== null ? ckk + 1 : ckk;
  const col = scratchBuffer(0, kb * plane);
  if (bias !== null) col.fill(1, ckk * plane, kb * plane);
  // Every image's GEMM writes its slab (beta = 0): no zero fill needed.
  const out = allocUninit(n * cout * plane);
  const K = kernels();
  // im2col groups rows by tap, so the weights are read in (Cout, kh, kw, C) order.
  const wTap = tapMajor(weight.data, bias?.data ?? null, cout, cin, kh * kw);
  for (let b = 0; b < n; b++) {
    im2col(x.data, b * cin * h * w, g, col);
    K.gemm(false, false, cout, plane, kb, 1, wTap, kb, col, plane, 0, out.subarray(b * cout * plane, (b + 1) * cout * plane), plane);
  }
  // dx as a correlation of dy (below) for 'same' convolutions whose columns of dy are not much larger than x's.
  const dxByCorrelation = stride === 1 && kh === kw && ho === h && wo === w && cout <= 4 * cin;
  return record(new Tensor(out, [n, cout, ho, wo]), 'conv2d', [x, weight, bias], (gy) => {
    const cols = scratchBuffer(0, ckk * plane);
    // Fresh gradients are written, not zeroed first: dW by the first image's GEMM (beta = 0), dx per image.
    const freshX = x.requiresGrad && x.grad === null;
    const gx = x.requiresGrad ? (x.grad ?? x.freshGrad()) : null;
    // dW in tap-major order (as the columns), put back in (Cout, C, kh, kw) order at the end.
    let betaW = 0;
    const gw = weight.requiresGrad ? new Float32Array(cout * ckk) : null;
    const dxCorr = gx !== null && dxByCorrelation ? flippedKernel(weight.data, cout, cin, kh * kw) : null;
    const gCorr: ConvGeom = { c: cout, h: ho, w: wo, kh, kw, stride: 1, pad: kh - 1 - pad, ho: h, wo: w };
    const ckkOut = cout * kh * kw;
    const dcol = gx === null ? null : dxCorr !== null ? scratchBuffer(1, ckkOut * h * w) : scratchBuffer(1, ckk * plane);
    for (let b = 0; b < n; b++) {
      const gyb = gy.subarray(b * cout * plane, (b + 1) * cout * plane);
      if (gw !== null) {
        // Recompute the columns instead of keeping N of them alive between forward and backward.
        im2col(x.data, b * cin * h * w, g, cols);
        K.gemm(false, true, cout, ckk, plane, 1, gyb, plane, cols, plane, betaW, gw, ckk);
        betaW = 1;
      }
      if (gx === null || dcol === null) continue;
      const gxb = gx.subarray(b * cin * h * w, (b + 1) * cin * h * w);
      if (dxCorr !== null) {
        // dx[ci, y, x] = sum_{co,i,j} W[co, ci, k-1-i, k-1-j] dy[co, y+i-p', x+j-p'] with p' = k-1-p: a stride-1
        // convolution of dy by the flipped kernel, so im2col (memcpy speed) and one GEMM write dx directly;
        // the GEMM into W^T dY columns and col2im's scatter-add that it replaces were W3's slowest backward loop.
        im2col(gy, b * cout * plane, gCorr, dcol);
        K.gemm(false, false, cin, h * w, ckkOut, 1, dxCorr, ckkOut, dcol, h * w, freshX ? 0 : 1, gxb, h * w);
      } else {
        K.gemm(true, false, ckk, plane, cout, 1, wTap, kb, gyb, plane, 0, dcol, plane);
        if (freshX) gxb.fill(0);
        col2im(dcol, g, gx, b * cin * h * w);
      }
    }
    if (gw !== null) addChannelMajor(gw, cout, cin, kh * kw, weight);
    if (bias !== null && bias.requiresGrad) planeSums(gy, n, cout, plane, bias);
  });
}

/**
 * W (Cout, C, kk) reordered to (Cout, kk, C), the row order of im2col's columns, with the bias as a last column
 * when there is one; W itself when C = 1 and there is no bias.
 */
function tapMajor(wd: Float32Array, bias: Float32Array | null, cout: number, cin: number, kk: number): Float32Array {
  if (cin === 1 && bias === null) return wd;
  const kb = cin * kk + (bias !== null ? 1 : 0);
  const r = new Float32Array(cout * kb);
  for (let co = 0; co < cout; co++) {
    for (let ci = 0; ci < cin; ci++) {
      for (let t = 0; t < kk; t++) r[co * kb + t * cin + ci] = wd[(co * cin + ci) * kk + t];
    }
    if (bias !== null) r[co * kb + kb - 1] = bias[co];
  }
  return r;
}

/** grad(weight) += g, g in (Cout, kk, C) order (written when weight has no gradient yet). */
function addChannelMajor(g: Float32Array, cout: number, cin: number, kk: number, weight: Tensor): void {
  const fresh = weight.grad === null;
  const gw = weight.grad ?? weight.freshGrad();
  for (let co = 0; co < cout; co++) {
    for (let ci = 0; ci < cin; ci++) {
      for (let t = 0; t < kk; t++) {
        const v = g[(co * kk + t) * cin + ci];
        const i = (co * cin + ci) * kk + t;
        gw[i] = fresh ? v : gw[i] + v;
      }
    }
  }
}

/**
 * The kernel for dx as a convolution of dy, in im2col's tap-major order: F[ci, t*Cout + co] = W[co, ci, kk-1-t]
 * (input and output channels swapped, taps reversed).
 */
function flippedKernel(wd: Float32Array, cout: number, cin: number, kk: number): Float32Array {
  const f = new Float32Array(cin * cout * kk);
  for (let co = 0; co < cout; co++) {
    for (let ci = 0; ci < cin; ci++) {
      const src = (co * cin + ci) * kk;
      for (let t = 0; t < kk; t++) f[(ci * kk + t) * cout + co] = wd[src + kk - 1 - t];
    }
  }
  return f;
}

/** grad(t)[c] += sum over n and the plane of g (N, C, plane): per-channel float64 sums, 4 accumulators per plane (the reductions family). */
function planeSums(g: Float32Array, n: number, c: number, plane: number, t: Tensor): void {
  const s = new Float64Array(c);
  kernels().reductions.planeSums(g, { N: n, C: c, plane }, s);
  if (t.grad === null) t.freshGrad().set(s);
  else {
    const gt = t.grad;
    for (let co = 0; co < c; co++) gt[co] += s[co];
  }
}
