// Sequential: children named '0', '1', ... applied in order (state dict keys like PyTorch's nn.Sequential).
import type { Tensor } from '../tensor/tensor.js';
import { releaseBuffer } from '../tensor/pool.js';
import { ArgumentError } from '../tensor/errors.js';
import { AvgPool2d, Flatten, Identity, MaxPool2d, ReLU, Sigmoid, Tanh } from './activation.js';
import { ReLUMaxPool2d } from './fused.js';
import { Conv2d, Linear } from './layers.js';
import { Module } from './module.js';
import { BatchNormBase } from './norm/batchnorm.js';

/**
 * Layers (exactly these classes, and BatchNorms with BatchNormBase's own forward) whose output is a buffer of
 * their own and whose forward keeps no reference to its input unless its op recorded a backward rule.
 */
function ownsOutputKeepsNothing(m: Module): boolean {
  const c = m.constructor;
  if (m instanceof BatchNormBase) return m.forward === BatchNormBase.prototype.forward;
  return c === Linear || c === Conv2d || c === ReLU || c === Sigmoid || c === Tanh || c === MaxPool2d || c === AvgPool2d || c === ReLUMaxPool2d;
}

/** Layers whose output is their input or a view of it, and which keep no reference to it. */
function transparent(m: Module): boolean {
  return m.constructor === Flatten || m.constructor === Identity;
}

/**
 * Applies its children in order. Fusing layers (BatchNorm + activation, ReLU + MaxPool2d) is not done here but by
 * the explicit pass fuseBatchNormAct (src/nn/norm/fuse.ts).
 */
export class Sequential extends Module {
  readonly layers: Module[];

  constructor(...layers: Module[]) {
    super();
    this.layers = layers;
    layers.forEach((m, i) => this.registerModule(String(i), m));
  }

  /**
   * Applies the layers in order, handing intermediates back to the buffer pool. A tensor made inside this forward
   * by one of the layers listed in ownsOutputKeepsNothing and consumed by another of them is seen by nobody else:
   * in inference (no op recording, e.g. inside noGrad) its buffer goes back to the pool at once, in training once
   * backward() is done with it (Tensor.recycle), and later outputs reuse it. Fresh 1 MB buffers cost ~0.1 ms each
   * in page faults (W5 allocated six per pass), and a heap block that is not handed back stays taken until the
   * garbage collector happens to collect its view (W3 grew past 500 MB that way). A Flatten or Identity between
   * two such layers passes the same buffer on and does not break the chain.
   */
  forward(x: Tensor): Tensor {
    let h = x;
    /** h's buffer was allocated by a layer of this call, and nothing outside it has seen h. */
    let internal = false;
    /** The tensor that made h's buffer: h itself, or the layer output a Flatten made a view of. */
    let source = x;
    for (const m of this.layers) {
      const input = h;
      h = m.forward(h);
      if (transparent(m) && h.data === input.data) continue;
      const owns = ownsOutputKeepsNothing(m);
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

  /** Replaces the child at position i (as `seq[i] = m` in PyTorch); its state dict keys become m's under 'i.'. */
  setLayer(i: number, m: Module): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.layers.length) {
      throw new ArgumentError(`Sequential.setLayer: index ${String(i)} is not in [0, ${this.layers.length})`);
    }
    this.registerModule(String(i), m);
    this.layers[i] = m;
  }
}
