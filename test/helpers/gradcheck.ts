// Central-difference gradient checks: contract the output with a random cotangent (never .sum()).
import { Tensor } from '../../src/tensor/tensor.js';
import { Rng } from '../../src/tensor/rng.js';
import { noGrad } from '../../src/autograd/grad-mode.js';

export interface GradCheckOptions {
  /** Finite-difference step (default 1e-2: float32 outputs carry ~1e-7 relative noise, so tiny steps drown in it). */
  eps?: number;
  /** Max allowed |analytic - numeric| / max(1, |numeric|) (default 2e-2). */
  tol?: number;
  seed?: number;
}

/**
 * Runs f forward and backward with a fixed random cotangent c (fresh gradients on the inputs), and returns
 * <c, f(inputs)> under noGrad as a function of the inputs' current data, for the difference quotients.
 */
export function backwardWithCotangent(f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], seed: number): () => number {
  const rng = new Rng(seed);
  for (const x of inputs) x.grad = null;
  const y = f(...inputs);
  const cot = new Float32Array(y.size);
  for (let i = 0; i < cot.length; i++) cot[i] = rng.normal();
  y.backward(cot);
  return (): number => {
    const out = noGrad(() => f(...inputs));
    let s = 0;
    for (let i = 0; i < cot.length; i++) s += out.data[i] * cot[i];
    return s;
  };
}

/**
 * Checks d<c, f(inputs)>/d input against central differences for every input with requiresGrad,
 * where c is a fixed random cotangent. Returns the worst error found (and throws over tol).
 * Why a random cotangent: with BN in training mode sum(y) has zero gradient, so a .sum() check proves nothing.
 */
export function gradCheck(f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], opts: GradCheckOptions = {}): number {
  const eps = opts.eps ?? 1e-2;
  const tol = opts.tol ?? 2e-2;
  const contract = backwardWithCotangent(f, inputs, opts.seed ?? 7);
  let worst = 0;
  for (const [k, x] of inputs.entries()) {
    if (!x.requiresGrad) continue;
    const g = x.grad ?? new Float32Array(x.size);
    for (let i = 0; i < x.size; i++) {
      const old = x.data[i];
      x.data[i] = old + eps;
      // Divide by the step actually stored: old +- eps is rounded to float32, which matters for |old| >> eps.
      const hi = x.data[i];
      const up = contract();
      x.data[i] = old - eps;
      const lo = x.data[i];
      const down = contract();
      x.data[i] = old;
      const numeric = (up - down) / (hi - lo);
      const err = Math.abs(g[i] - numeric) / Math.max(1, Math.abs(numeric));
      worst = Math.max(worst, err);
      if (err > tol) {
        throw new Error(`gradCheck: input ${k} element ${i}: analytic ${g[i]} vs numeric ${numeric} (rel err ${err.toExponential(2)} > ${tol})`);
      }
    }
  }
  return worst;
}

/** A leaf tensor of N(0, scale^2) values that requires grad. */
export function randLeaf(shape: number[], seed: number, scale = 1): Tensor {
  const rng = new Rng(seed);
  const d = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < d.length; i++) d[i] = scale * rng.normal();
  return new Tensor(d, shape, true);
}
