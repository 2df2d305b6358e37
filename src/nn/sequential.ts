// Sequential: children named '0', '1', ... applied in order (state dict keys like PyTorch's nn.Sequential).
import type { Tensor } from '../tensor/tensor.js';
import { Module } from './module.js';

/** Applies its children in order. */
export class Sequential extends Module {
  readonly layers: Module[];

  constructor(...layers: Module[]) {
    super();
    this.layers = layers;
    layers.forEach((m, i) => this.registerModule(String(i), m));
  }

  forward(x: Tensor): Tensor {
    let h = x;
    for (const m of this.layers) h = m.forward(h);
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
