// Sequential: children named '0', '1', ... applied in order (state dict keys like PyTorch's nn.Sequential).
import type { Tensor } from '../tensor/tensor.js';
import { releaseBuffer } from '../tensor/pool.js';
import { reluMaxPool2d } from '../ops/pool.js';
import { MaxPool2d, ReLU, Sigmoid, Tanh } from './activation.js';
import { Linear } from './layers.js';
import { Module } from './module.js';
import { BatchNormBase } from './norm/batchnorm.js';

/** A BatchNorm whose forward is BatchNormBase's own (a subclass overriding forward keeps its override). */
function fusable(m: Module): m is BatchNormBase {
  return m instanceof BatchNormBase && m.forward === BatchNormBase.prototype.forward;
}

/**
 * Layers (exactly these classes) whose output is a buffer of their own and whose forward keeps no reference to
 * its input unless its op recorded a backward rule.
 */
function ownsOutputKeepsNothing(m: Module): boolean {
  const c = m.constructor;
  return c === Linear || c === ReLU || c === Sigmoid || c === Tanh || fusable(m);
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
   *
   * A tensor made inside this forward by one of the layers above and consumed by another of them is seen by
   * nobody else: in inference (no op recording, e.g. inside noGrad) its buffer goes back to the pool at once, in
   * training once backward() is done with it, and later outputs reuse it. Fresh 1 MB buffers cost ~0.1 ms each
   * in page faults (W5 allocated six per pass).
   */
  forward(x: Tensor): Tensor {
    let h = x;
    /** h's buffer was allocated by a layer of this call, and nothing outside it has seen h. */
    let internal = false;
    const layers = this.layers;
    for (let i = 0; i < layers.length; i++) {
      const input = h;
      const m = layers[i];
      let owns = false;
      const next = layers[i + 1];
      // The activation after a BatchNorm, looking past pass-through layers (identities) between them.
      let j = i + 1;
      if (fusable(m)) while (layers[j]?.passThrough) j++;
      const a = layers[j];
      const act = a === undefined ? null : a.constructor === ReLU ? 'relu' : a.constructor === Sigmoid ? 'sigmoid' : null;
      if (act !== null && fusable(m) && !(act === 'relu' && layers[j + 1]?.constructor === MaxPool2d)) {
        h = m.forwardAct(h, act);
        owns = true;
        i = j;
      } else if (m.constructor === ReLU && next !== undefined && next.constructor === MaxPool2d) {
        const pool = next as MaxPool2d;
        h = reluMaxPool2d(h, pool.kernelSize, pool.opts);
        i++;
      } else {
        h = m.forward(h);
        owns = ownsOutputKeepsNothing(m);
      }
      if (internal && owns && h.data !== input.data) {
        // Inference: nothing recorded a reference, the buffer is free now. Training: the graph holds it until
        // backward() has run the rules that read it (see Tensor.recycle).
        if (h.backwardFn === null) releaseBuffer(input.data);
        else input.recycle = true;
      }
      internal = owns;
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
