// Dropout: zeroes each value with probability p in training and scales the rest by 1/(1-p); identity in eval.
import { record } from '../autograd/record.js';
import { Tensor } from '../tensor/tensor.js';
import { ArgumentError } from '../tensor/errors.js';
import { getRng, Rng } from '../tensor/rng.js';
import { describe, expectTensor } from './util.js';
import { allocZeros } from '../tensor/alloc.js';

/** Inverted dropout: y = x * mask / (1 - p), mask ~ Bernoulli(1 - p). Identity when not training or p = 0. */
export function dropout(x: Tensor, p = 0.5, training = true, rng: Rng = getRng()): Tensor {
  expectTensor('dropout', 'x', x);
  if (typeof p !== 'number' || !(p >= 0 && p < 1)) throw new ArgumentError(`dropout: p must be in [0, 1), got ${String(p)}`);
  if (!(rng instanceof Rng)) throw new ArgumentError(`dropout: rng must be an Rng, got ${describe(rng)}`);
  if (!training || p === 0) return x;
  const n = x.size;
  const mask = new Float32Array(n);
  const scale = 1 / (1 - p);
  const xd = x.data;
  const out = allocZeros(n);
  for (let i = 0; i < n; i++) {
    const m = rng.uniform() >= p ? scale : 0;
    mask[i] = m;
    out[i] = xd[i] * m;
  }
  return record(new Tensor(out, x.shape), 'dropout', [x], (g) => {
    const gx = x.gradBuffer();
    for (let i = 0; i < n; i++) gx[i] += g[i] * mask[i];
  });
}
