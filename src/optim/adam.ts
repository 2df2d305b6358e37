// Adam and AdamW: PyTorch's exact update rules (bias-corrected moments; AdamW decays weights decoupled).
import { Optimizer, hyper } from './optimizer.js';
import type { Tensor } from '../tensor/tensor.js';
import { ArgumentError } from '../tensor/errors.js';
import { allocZeros } from '../tensor/alloc.js';

export interface AdamOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

/**
 * torch.optim.Adam: g = grad + wd p (L2); m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
 * p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps). Defaults lr 1e-3, betas (0.9, 0.999), eps 1e-8, wd 0.
 */
export class Adam extends Optimizer {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  protected readonly decoupled: boolean;
  private readonly m: Float32Array[];
  private readonly v: Float32Array[];
  private t = 0;

  constructor(params: Iterable<Tensor>, opts: AdamOptions = {}, name = 'Adam', decoupled = false, defaultWd = 0) {
    if (opts === null || typeof opts !== 'object') throw new ArgumentError(`${name}: options must be an object`);
    super(name, params, opts.lr ?? 1e-3);
    const betas = opts.betas ?? [0.9, 0.999];
    if (!Array.isArray(betas) || betas.length !== 2) throw new ArgumentError(`${name}: betas must be a pair [beta1, beta2]`);
    this.beta1 = hyper(name, 'betas[0]', betas[0], 0, 1, true);
    this.beta2 = hyper(name, 'betas[1]', betas[1], 0, 1, true);
    this.eps = hyper(name, 'eps', opts.eps ?? 1e-8, 0);
    this.weightDecay = hyper(name, 'weightDecay', opts.weightDecay ?? defaultWd, 0);
    this.decoupled = decoupled;
    this.m = this.params.map((p) => allocZeros(p.size));
    this.v = this.params.map((p) => allocZeros(p.size));
  }

  step(): void {
    this.t++;
    const { lr, beta1: b1, beta2: b2, eps, weightDecay: wd } = this;
    const bc1 = 1 - Math.pow(b1, this.t);
    const bc2Sqrt = Math.sqrt(1 - Math.pow(b2, this.t));
    const stepSize = lr / bc1;
    for (let k = 0; k < this.params.length; k++) {
      const p = this.params[k];
      const g = p.grad;
      if (g === null) continue;
      const w = p.data;
      const m = this.m[k];
      const v = this.v[k];
      if (this.decoupled && wd !== 0) for (let i = 0; i < w.length; i++) w[i] *= 1 - lr * wd;
      const l2 = this.decoupled ? 0 : wd;
      for (let i = 0; i < w.length; i++) {
        const gi = g[i] + l2 * w[i];
        const mi = (m[i] = b1 * m[i] + (1 - b1) * gi);
        const vi = (v[i] = b2 * v[i] + (1 - b2) * gi * gi);
        w[i] -= (stepSize * mi) / (Math.sqrt(vi) / bc2Sqrt + eps);
      }
    }
    this.stepCount++;
  }
}

/** torch.optim.AdamW: p *= 1 - lr * wd, then the Adam step without L2. Default weightDecay 0.01. */
export class AdamW extends Adam {
  constructor(params: Iterable<Tensor>, opts: AdamOptions = {}) {
    super(params, opts, 'AdamW', true, 0.01);
  }
}
