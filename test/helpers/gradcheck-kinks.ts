// Central-difference gradient checks through ReLU kinks: elements whose step crosses a kink are detected and skipped.
import type { Tensor } from '../../src/tensor/tensor.js';
import { backwardWithCotangent } from './gradcheck.js';

/** What gradCheckKinks found: the worst relative error over checked elements, and how many it skipped. */
export interface KinkCheck {
  worst: number;
  checked: number;
  skipped: number;
}

/**
 * As gradCheck (test/helpers/gradcheck.ts): d<c, f(inputs)>/d input for a fixed random cotangent c, against
 * central differences. A network with ReLUs is piecewise smooth: a step of eps that moves some pre-activation
 * across 0 makes the difference quotient meaningless there. Such an element shows as one-sided quotients that
 * disagree ((f(x) - f(x - eps)) / eps vs (f(x + eps) - f(x)) / eps differ by more than tol); it is skipped, and at
 * most `maxSkipped` of the elements may be (default 5%). Throws on the first element over tol.
 */
export function gradCheckKinks(f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], opts: { eps?: number; tol?: number; seed?: number;
  maxSkipped?: number } = {}): KinkCheck {
  const eps = opts.eps ?? 1e-2;
  const tol = opts.tol ?? 2e-2;
  const contract = backwardWithCotangent(f, inputs, opts.seed ?? 7);
  const r: KinkCheck = { worst: 0, checked: 0, skipped: 0 };
  for (const [k, x] of inputs.entries()) {
    if (!x.requiresGrad) continue;
    const g = x.grad ?? new Float32Array(x.size);
    for (let i = 0; i < x.size; i++) {
      const old = x.data[i];
      const mid = contract();
      x.data[i] = old + eps;
      const hi = x.data[i];
      const up = contract();
      x.data[i] = old - eps;
      const lo = x.data[i];
      const down = contract();
      x.data[i] = old;
      const numeric = (up - down) / (hi - lo);
      const scale = Math.max(1, Math.abs(numeric));
      if (Math.abs((up - mid) / (hi - old) - (mid - down) / (old - lo)) > tol * scale) {
        r.skipped++;
        continue;
      }
      const err = Math.abs(g[i] - numeric) / scale;
      r.checked++;
      r.worst = Math.max(r.worst, err);
      if (err > tol) {
        throw new Error(`gradCheckKinks: input ${k} element ${i}: analytic ${g[i]} vs numeric ${numeric} (rel err ${err.toExponential(2)} > ${tol})`);
      }
    }
  }
  const maxSkipped = opts.maxSkipped ?? 0.05;
  if (r.skipped > maxSkipped * (r.checked + r.skipped)) {
    throw new Error(`gradCheckKinks: ${r.skipped} of ${r.checked + r.skipped} elements sit on a kink (over ${maxSkipped * 100}%); use a smaller eps`);
  }
  return r;
}
