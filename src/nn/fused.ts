// Modules that fuseBatchNormAct puts in place of two layers: ReLU followed by MaxPool2d as one op.
import { reluMaxPool2d } from '../ops/pool.js';
import type { Tensor } from '../tensor/tensor.js';
import { Module } from './module.js';

/**
 * maxPool2d(relu(x)) as one op (ops/pool.ts reluMaxPool2d): the values and gradients of ReLU then MaxPool2d,
 * without relu's output tensor. Made by fuseBatchNormAct from a ReLU directly followed by a MaxPool2d; it has no
 * parameters, so state dict keys do not change.
 */
export class ReLUMaxPool2d extends Module {
  constructor(readonly kernelSize: number, readonly opts: { stride?: number; padding?: number } = {}) {
    super();
  }

  forward(x: Tensor): Tensor {
    return reluMaxPool2d(x, this.kernelSize, this.opts);
  }
}
