// Sequential: children named '0', '1', ... applied in order (state dict keys like PyTorch's nn.Sequential).
import type { Tensor } from '../tensor/tensor.js';
import { reluMaxPool2d } from '../ops/pool.js';
import { MaxPool2d, ReLU, Sigmoid } from './activation.js';
import { Module } from './module.js';
import { BatchNormBase } from './norm/batchnorm.js';

/** A BatchNorm whose forward is BatchNormBase's own (a subclass overriding forward keeps its override). */
function fusable(m: Module): m is BatchNormBase {
  return m instanceof BatchNormBase && m.forward === BatchNormBase.prototype.forward;
}

/** Applies its children in order. */
export class Sequential extends Module {
  readonly layers: Module[];

  constructor(...layers: Module[]) {
    super();
    this.layers = layers;
    layers.forEach((m, i) => this.registerModule(String(i), m));
  }

  /**
   * Applies the layers in order. A ReLU directly followed by a MaxPool2d (exactly those classes) runs as one
   * reluMaxPool2d: the same values and gradients without ReLU's intermediate tensor (both are internal here).
   * Likewise a BatchNorm (any BatchNormBase) followed by a ReLU or Sigmoid, directly or past pass-through layers,
   * runs as one fused op (BatchNormBase.forwardAct), unless that ReLU is itself followed by a MaxPool2d.
   */
  forward(x: Tensor): Tensor {
    let h = x;
    const layers = this.layers;
    for (let i = 0; i < layers.length; i++) {
      const m = layers[i];
      const next = layers[i + 1];
      // The activation after a BatchNorm, looking past pass-through layers (identities) between them.
      let j = i + 1;
      if (fusable(m)) while (layers[j]?.passThrough) j++;
      const a = layers[j];
      const act = a === undefined ? null : a.constructor === ReLU ? 'relu' : a.constructor === Sigmoid ? 'sigmoid' : null;
      if (act !== null && fusable(m) && !(act === 'relu' && layers[j + 1]?.constructor === MaxPool2d)) {
        h = m.forwardAct(h, act);
        i = j;
      } else if (m.constructor === ReLU && next !== undefined && next.constructor === MaxPool2d) {
        const pool = next as MaxPool2d;
        h = reluMaxPool2d(h, pool.kernelSize, pool.opts);
        i++;
      } else {
        h = m.forward(h);
      }
    }
    return h;
  }

  /** Number of children. */
  get length(): number {
    return this.layers.length;
  }

  /** Child at position i. */
  at(i: number): Module {
    return this.layers[i];
  }
}
