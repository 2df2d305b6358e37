// Losses: cross-entropy from logits with integer labels (fused log-softmax), and mean squared error.
import { record } from '../autograd/record.js';
import { Tensor } from '../tensor/tensor.js';
import { ArgumentError, ShapeError, fmtShape } from '../tensor/errors.js';
import { expectTensor, sameShape } from './util.js';

export type Reduction = 'mean' | 'sum';

function checkReduction(op: string, r: unknown): Reduction {
  if (r !== 'mean' && r !== 'sum') throw new ArgumentError(`${op}: reduction must be 'mean' or 'sum', got ${String(r)}`);
  return r;
}

/**
 * Cross-entropy of logits (N, C) against integer labels in [0, C):
 * loss = mean_i( logsumexp(z_i) - z_i[y_i] ). Gradient (softmax(z) - onehot(y)) / N, computed fused.
 */
export function crossEntropy(logits: Tensor, labels: Int32Array | ArrayLike<number>, opts: { reduction?: Reduction } = {}): Tensor {
  expectTensor('crossEntropy', 'logits', logits);
  const reduction = checkReduction('crossEntropy', opts.reduction ?? 'mean');
  if (logits.ndim !== 2) throw new ShapeError(`crossEntropy: expected logits of shape (N, C), got ${fmtShape(logits.shape)}`);
  const [n, c] = logits.shape;
  if (labels === null || typeof labels !== 'object' || typeof labels.length !== 'number') {
    throw new ArgumentError('crossEntropy: labels must be an Int32Array or an array of integers');
  }
  if (labels.length !== n) throw new ShapeError(`crossEntropy: ${labels.length} labels for ${n} rows of logits ${fmtShape(logits.shape)}`);
  for (let i = 0; i < n; i++) {
    const y = labels[i];
    if (!Number.isInteger(y) || y < 0 || y >= c) throw new ArgumentError(`crossEntropy: label ${y} at position ${i} is outside [0, ${c - 1}]`);
  }
  const z = logits.data;
  const prob = new Float32Array(n * c);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const row = i * c;
    let mx = -Infinity;
    for (let j = 0; j < c; j++) mx = Math.max(mx, z[row + j]);
    let s = 0;
    for (let j = 0; j < c; j++) {
      const e = Math.exp(z[row + j] - mx);
      prob[row + j] = e;
      s += e;
    }
    for (let j = 0; j < c; j++) prob[row + j] /= s;
    total += mx + Math.log(s) - z[row + labels[i]];
  }
  const scale = reduction === 'mean' ? 1 / n : 1;
  const lab = Int32Array.from(labels);
  return record(new Tensor(new Float32Array([total * scale]), []), 'crossEntropy', [logits], (g) => {
    const gz = logits.gradBuffer();
    const gs = g[0] * scale;
    for (let i = 0; i < n; i++) {
      const row = i * c;
      for (let j = 0; j < c; j++) gz[row + j] += gs * (prob[row + j] - (j === lab[i] ? 1 : 0));
    }
  });
}

/** Mean squared error: mean((pred - target)^2); gradient 2 (pred - target) / n for pred (and minus for target). */
export function mseLoss(pred: Tensor, target: Tensor, opts: { reduction?: Reduction } = {}): Tensor {
  expectTensor('mseLoss', 'pred', pred);
  expectTensor('mseLoss', 'target', target);
  const reduction = checkReduction('mseLoss', opts.reduction ?? 'mean');
  if (!sameShape(pred.shape, target.shape)) {
    throw new ShapeError(`mseLoss: pred ${fmtShape(pred.shape)} and target ${fmtShape(target.shape)} must have the same shape`);
  }
  const p = pred.data;
  const t = target.data;
  const n = p.length;
  let s = 0;
  for (let i = 0; i < n; i++) {
    const d = p[i] - t[i];
    s += d * d;
  }
  const scale = reduction === 'mean' ? 1 / n : 1;
  return record(new Tensor(new Float32Array([s * scale]), []), 'mseLoss', [pred, target], (g) => {
    const k = 2 * g[0] * scale;
    if (pred.requiresGrad) {
      const gp = pred.gradBuffer();
      for (let i = 0; i < n; i++) gp[i] += k * (p[i] - t[i]);
    }
    if (target.requiresGrad) {
      const gt = target.gradBuffer();
      for (let i = 0; i < n; i++) gt[i] -= k * (p[i] - t[i]);
    }
  });
}
