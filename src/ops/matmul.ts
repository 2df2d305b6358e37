// matmul and linear: GEMMs forward and backward; backward uses transpose flags, never materialized transposes.
import { record } from '../autograd/record.js';
import { kernels } from '../kernels/select.js';
import { Tensor } from '../tensor/tensor.js';
import { allocUninit } from '../tensor/alloc.js';
import { ShapeError, fmtShape } from '../tensor/errors.js';
import { expectTensor } from './util.js';

/** Matrix product of (m, k) and (k, n). dA = dY B^T, dB = A^T dY. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  expectTensor('matmul', 'a', a);
  expectTensor('matmul', 'b', b);
  if (a.ndim !== 2 || b.ndim !== 2 || a.shape[1] !== b.shape[0]) {
    throw new ShapeError(`matmul: expected (m, k) and (k, n), got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
  }
  const [m, k] = a.shape;
  const n = b.shape[1];
  // Written in full by the GEMM (beta = 0): no zero fill needed.
  const out = allocUninit(m * n);
  const K = kernels();
  K.gemm(false, false, m, n, k, 1, a.data, k, b.data, n, 0, out, n);
  return record(new Tensor(out, [m, n]), 'matmul', [a, b], (g) => {
    // A gradient nobody wrote yet is overwritten (beta = 0) instead of zeroed and accumulated into.
    if (a.requiresGrad) {
      const beta = a.grad ? 1 : 0;
      K.gemm(false, true, m, k, n, 1, g, n, b.data, n, beta, a.grad ?? a.freshGrad(), k);
    }
    if (b.requiresGrad) {
      const beta = b.grad ? 1 : 0;
      K.gemm(true, false, k, n, m, 1, a.data, k, g, n, beta, b.grad ?? b.freshGrad(), n);
    }
  });
}

/**
 * y = x W^T + b, PyTorch's layout: x (N, in), W (out, in), b (out) or null.
 * dx = dy W, dW += dy^T x, db += sum over rows of dy.
 */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  expectTensor('linear', 'x', x);
  expectTensor('linear', 'weight', weight);
  if (weight.ndim !== 2) throw new ShapeError(`linear: weight must be (out_features, in_features), got ${fmtShape(weight.shape)}`);
  const [outF, inF] = weight.shape;
  if (x.ndim !== 2 || x.shape[1] !== inF) {
    throw new ShapeError(`linear: expected input of shape (N, ${inF}), got ${fmtShape(x.shape)}`);
  }
  if (bias !== null) expectTensor('linear', 'bias', bias);
  if (bias !== null && (bias.ndim !== 1 || bias.shape[0] !== outF)) {
    throw new ShapeError(`linear: bias must have shape [${outF}], got ${fmtShape(bias.shape)}`);
  }
  const n = x.shape[0];
  // Written in full, by the broadcast bias or by the GEMM with beta = 0: no zero fill needed.
  const out = allocUninit(n * outF);
  if (bias !== null) {
    // Start from the broadcast bias and accumulate the product into it (beta = 1): one pass fewer.
    // Broadcast by doubling (copyWithin is a memmove): log2(n) calls instead of one set() per row.
    if (n > 0) out.set(bias.data);
    for (let rows = 1; rows < n; rows *= 2) out.copyWithin(rows * outF, 0, Math.min(rows, n - rows) * outF);
  }
  const K = kernels();
  K.gemm(false, true, n, outF, inF, 1, x.data, inF, weight.data, inF, bias !== null ? 1 : 0, out, outF);
  return record(new Tensor(out, [n, outF]), 'linear', [x, weight, bias], (g) => {
    // A gradient nobody wrote yet is overwritten (beta = 0) instead of zeroed and accumulated into.
    if (x.requiresGrad) {
      const beta = x.grad ? 1 : 0;
      K.gemm(false, false, n, inF, outF, 1, g, outF, weight.data, inF, beta, x.grad ?? x.freshGrad(), inF);
    }
    if (weight.requiresGrad) {
      const beta = weight.grad ? 1 : 0;
      K.gemm(true, false, outF, inF, n, 1, g, outF, x.data, inF, beta, weight.grad ?? weight.freshGrad(), inF);
    }
    if (bias !== null && bias.requiresGrad) columnSums(g, n, outF, bias);
  });
}

let sums = new Float64Array(0);

/** grad(t)[j] += sum_i g[i, j] for g (rows, cols): float64 column sums, each in row order (the reductions family). */
function columnSums(g: Float32Array, rows: number, cols: number, t: Tensor): void {
  // Module scratch, not a new Float64Array per call (~1 us each, four per step of the paper's net).
  if (sums.length < cols) sums = new Float64Array(cols);
  const s = sums.subarray(0, cols);
  kernels().reductions.columnSums(g, rows, cols, s);
  if (t.grad === null) t.freshGrad().set(s);
  else {
    const gt = t.grad;
    for (let j = 0; j < cols; j++) gt[j] += s[j];
  }
}
