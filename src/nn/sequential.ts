// Sequential: children named '0', '1', ... applied in order (state dict keys like PyTorch's nn.Sequential).
import type { Tensor } from '../tensor/tensor.js';
import { releaseBuffer } from '../tensor/pool.js';
import { reluMaxPool2d } from '../ops/pool.js';
import { AvgPool2d, Flatten, MaxPool2d, ReLU, Sigmoid, Tanh } from './activation.js';
import { Conv2d, Linear } from './layers.js';
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
  return c === Linear || c === Conv2d || c === ReLU || c === Sigmoid || c === Tanh || c === MaxPool2d || c === AvgPool2d || fusable(m);
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
   * in page faults (W5 allocated six per pass), and a heap block that is not handed back stays taken until the
   * garbage collector happens to collect its view (W3 grew past 500 MB that way). A Flatten between two such
   * layers is a view of the same buffer and does not break the chain.
   */
  forward(x: Tensor): Tensor {
    let h = x;
    /** h's buffer was allocated by a layer of this call, and nothing outside it has seen h. */
    let internal = false;
    /** The tensor that made h's buffer: h itself, or the layer output a Flatten made a view of. */
    let source = x;
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
        owns = true;
        i++;
      } else {
        h = m.forward(h);
        // A view: h still holds source's buffer, which stays internal (or not) as before.
        if (m.constructor === Flatten && h.data === input.data) continue;
        owns = ownsOutputKeepsNothing(m);
      }
      if (internal && owns && h.data !== input.data) {
        // Inference: nothing recorded a reference, the buffer is free now. Training: the graph holds it until
        // backward() has run the rules that read it, source's own last (see Tensor.recycle).
        if (h.backwardFn === null) releaseBuffer(source.data);
        else source.recycle = true;
      }
      internal = owns;
      source = h;
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
