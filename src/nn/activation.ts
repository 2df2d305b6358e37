// Parameter-free layers: activations, pooling, flatten, dropout, identity.
import { relu, sigmoid, tanh, softmax } from '../ops/activation.js';
import { maxPool2d, avgPool2d, globalAvgPool2d } from '../ops/pool.js';
import { flatten } from '../ops/shape.js';
import { dropout } from '../ops/dropout.js';
import type { Tensor } from '../tensor/tensor.js';
import { check } from '../tensor/errors.js';
import { getRng, type Rng } from '../tensor/rng.js';
import { Module } from './module.js';

/** max(x, 0) */
export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}

/** 1 / (1 + e^-x) */
export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    return sigmoid(x);
  }
}

/** tanh(x) */
export class Tanh extends Module {
  forward(x: Tensor): Tensor {
    return tanh(x);
  }
}

/** softmax along `dim` (default last). */
export class Softmax extends Module {
  constructor(readonly dim = -1) {
    super();
  }
  forward(x: Tensor): Tensor {
    return softmax(x, this.dim);
  }
}

/** Returns its input. */
export class Identity extends Module {
  forward(x: Tensor): Tensor {
    return x;
  }
}

/** (N, d1, d2, ...) -> (N, d1*d2*...) by default. */
export class Flatten extends Module {
  constructor(readonly startDim = 1, readonly endDim = -1) {
    super();
  }
  forward(x: Tensor): Tensor {
    return flatten(x, this.startDim, this.endDim);
  }
}

/** Max pooling over k x k windows (stride defaults to k). */
export class MaxPool2d extends Module {
  constructor(readonly kernelSize: number, readonly opts: { stride?: number; padding?: number } = {}) {
    super();
  }
  forward(x: Tensor): Tensor {
    return maxPool2d(x, this.kernelSize, this.opts);
  }
}

/** Average pooling over k x k windows (stride defaults to k). */
export class AvgPool2d extends Module {
  constructor(readonly kernelSize: number, readonly opts: { stride?: number; padding?: number } = {}) {
    super();
  }
  forward(x: Tensor): Tensor {
    return avgPool2d(x, this.kernelSize, this.opts);
  }
}

/**
 * torch.nn.AdaptiveAvgPool2d for output size 1 only, i.e. global average pooling: (N, C, H, W) -> (N, C, 1, 1),
 * the shape PyTorch returns (follow it with Flatten for (N, C)). Any other output size is refused.
 */
export class AdaptiveAvgPool2d extends Module {
  readonly outputSize: number;
  constructor(outputSize: number | readonly [number, number] = 1) {
    super();
    const ok = outputSize === 1 || (Array.isArray(outputSize) && outputSize.length === 2 && outputSize[0] === 1 && outputSize[1] === 1);
    check(ok, `AdaptiveAvgPool2d: only output size 1 (global average pooling) is implemented, got ${JSON.stringify(outputSize)}`);
    this.outputSize = 1;
  }
  forward(x: Tensor): Tensor {
    return globalAvgPool2d(x);
  }
}

/** Inverted dropout with probability p (default 0.5), active only in training mode. */
export class Dropout extends Module {
  readonly p: number;
  /** Own generator, or undefined to draw from the global one at each call (so manualSeed after construction counts). */
  private readonly rng: Rng | undefined;
  constructor(p = 0.5, opts: { rng?: Rng } = {}) {
    super();
    check(typeof p === 'number' && p >= 0 && p < 1, `Dropout: p must be in [0, 1), got ${String(p)}`);
    this.p = p;
    this.rng = opts.rng;
  }
  forward(x: Tensor): Tensor {
    return dropout(x, this.p, this.training, this.rng ?? getRng());
  }
}
