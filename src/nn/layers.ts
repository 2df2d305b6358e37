// Parameterized layers: Linear and Conv2d, with PyTorch's default initialization.
import { linear } from '../ops/matmul.js';
import { conv2d } from '../ops/conv.js';
import { Tensor } from '../tensor/tensor.js';
import { zeros } from '../tensor/create.js';
import { check } from '../tensor/errors.js';
import type { Rng } from '../tensor/rng.js';
import { Module } from './module.js';
import { torchDefaultInit } from './init.js';

function positiveInt(what: string, v: unknown): number {
  check(typeof v === 'number' && Number.isInteger(v) && v > 0, `${what} must be a positive integer, got ` +
    `${typeof v === 'string' ? `the string '${v}'` : String(v)}`);
  return v as number;
}

/** y = x W^T + b with W (out, in), b (out). Options: bias (default true), rng for the initial draw. */
export class Linear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  weight: Tensor;
  bias: Tensor | null;

  constructor(inFeatures: number, outFeatures: number, opts: { bias?: boolean; rng?: Rng } = {}) {
    super();
    this.inFeatures = positiveInt('Linear: inFeatures', inFeatures);
    this.outFeatures = positiveInt('Linear: outFeatures', outFeatures);
    this.weight = this.registerParameter('weight', zeros([outFeatures, inFeatures]))!;
    this.bias = this.registerParameter('bias', opts.bias === false ? null : zeros([outFeatures]));
    torchDefaultInit(this.weight, this.bias, opts.rng);
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }
}

export interface Conv2dModuleOptions {
  stride?: number;
  padding?: number;
  bias?: boolean;
  rng?: Rng;
}

/** 2-d convolution, weight (Cout, Cin, k, k). Options: stride 1, padding 0, bias true. */
export class Conv2d extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: number;
  readonly stride: number;
  readonly padding: number;
  weight: Tensor;
  bias: Tensor | null;

  constructor(inChannels: number, outChannels: number, kernelSize: number, opts: Conv2dModuleOptions = {}) {
    super();
    this.inChannels = positiveInt('Conv2d: inChannels', inChannels);
    this.outChannels = positiveInt('Conv2d: outChannels', outChannels);
    this.kernelSize = positiveInt('Conv2d: kernelSize', kernelSize);
    this.stride = positiveInt('Conv2d: stride', opts.stride ?? 1);
    this.padding = opts.padding ?? 0;
    check(Number.isInteger(this.padding) && this.padding >= 0, `Conv2d: padding must be a non-negative integer, got ${String(opts.padding)}`);
    this.weight = this.registerParameter('weight', zeros([outChannels, inChannels, kernelSize, kernelSize]))!;
    this.bias = this.registerParameter('bias', opts.bias === false ? null : zeros([outChannels]));
    torchDefaultInit(this.weight, this.bias, opts.rng);
  }

  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding });
  }
}
