// SGD with momentum, dampening, Nesterov and weight decay: PyTorch's exact update rule.
import { Optimizer, hyper } from './optimizer.js';
import type { Tensor } from '../tensor/tensor.js';
import { ArgumentError } from '../tensor/errors.js';
import { kernels } from '../kernels/select.js';
import { allocZeros } from '../tensor/alloc.js';

export interface SGDOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

/**
 * torch.optim.SGD: g = grad + wd * p; with momentum mu: b = g on the first step, else b = mu b + (1 - dampening) g;
 * g = nesterov ? g + mu b : b; p = p - lr g. Defaults: momentum 0, dampening 0, weightDecay 0, nesterov false.
 */
export class SGD extends Optimizer {
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  private readonly bufs: (Float32Array | null)[];

  constructor(params: Iterable<Tensor>, opts: SGDOptions) {
    if (!opts || typeof opts !== 'object') throw new ArgumentError('SGD: options { lr } are required');
    super('SGD', params, opts.lr);
    this.momentum = hyper('SGD', 'momentum', opts.momentum ?? 0, 0);
    this.dampening = hyper('SGD', 'dampening', opts.dampening ?? 0, 0, 1);
    this.weightDecay = hyper('SGD', 'weightDecay', opts.weightDecay ?? 0, 0);
    this.nesterov = opts.nesterov ?? false;
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new ArgumentError('SGD: nesterov needs momentum > 0 and dampening 0');
    }
    this.bufs = this.params.map(() => null);
  }

  step(): void {
    const { lr, momentum: mu, dampening, weightDecay: wd, nesterov } = this;
    for (let k = 0; k < this.params.length; k++) {
      const p = this.params[k];
      const g = p.grad;
      if (g === null) continue;
      const w = p.data;
      if (mu === 0) {
        if (wd === 0) kernels().axpy(w.length, -lr, g, w);
        else for (let i = 0; i < w.length; i++) w[i] -= lr * (g[i] + wd * w[i]);
        continue;
      }
      // The first step's loop apart: no per-element test of whether the buffer is new (nesterov is loop-invariant).
      const n = w.length;
      let b = this.bufs[k];
      if (b === null) {
        b = this.bufs[k] = allocZeros(n);
        for (let i = 0; i < n; i++) {
          const d = g[i] + wd * w[i];
          b[i] = d;
          w[i] -= lr * (nesterov ? d + mu * d : d);
        }
      } else {
        for (let i = 0; i < n; i++) {
          const d = g[i] + wd * w[i];
          const bi = mu * b[i] + (1 - dampening) * d;
          b[i] = bi;
          w[i] -= lr * (nesterov ? d + mu * bi : bi);
        }
      }
    }
    this.stepCount++;
  }
}
