// LayerNorm and GroupNorm modules (PyTorch semantics): batch-independent normalizations to compare with BatchNorm.
import { groupNorm, layerNorm } from '../../ops/norm/layernorm.js';
import { Tensor, numel } from '../../tensor/tensor.js';
import { ShapeError, check, fmtShape } from '../../tensor/errors.js';
import { Module } from '../module.js';

/**
 * torch.nn.LayerNorm: y = (x - mean) / sqrt(var + eps) * weight + bias, statistics per sample over the last
 * dimensions given by normalizedShape (biased variance); weight (init 1) and bias (init 0) of shape normalizedShape.
 * Same behaviour in train and eval. Defaults: eps 1e-5, elementwiseAffine true, bias true.
 */
export class LayerNorm extends Module {
  readonly normalizedShape: number[];
  eps: number;
  readonly elementwiseAffine: boolean;
  weight: Tensor | null;
  bias: Tensor | null;

  constructor(normalizedShape: number | readonly number[], opts: { eps?: number; elementwiseAffine?: boolean; bias?: boolean } = {}) {
    super();
    const shape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    check(shape.length > 0 && shape.every((d) => Number.isInteger(d) && d > 0), `LayerNorm: normalizedShape must hold positive integers, got ` +
      `${JSON.stringify(normalizedShape)}`);
    this.normalizedShape = shape;
    this.eps = opts.eps ?? 1e-5;
    this.elementwiseAffine = opts.elementwiseAffine ?? true;
    const n = numel(shape);
    this.weight = this.registerParameter('weight', this.elementwiseAffine ? new Tensor(new Float32Array(n).fill(1), shape) : null);
    this.bias = this.registerParameter('bias', this.elementwiseAffine && opts.bias !== false ? new Tensor(new Float32Array(n), shape) : null);
  }

  forward(x: Tensor): Tensor {
    return layerNorm(x, this.normalizedShape, this.weight, this.bias, this.eps);
  }
}

/**
 * torch.nn.GroupNorm (Wu & He 2018): x (N, C, ...), the C = numChannels channels split into numGroups groups;
 * per sample and group, y = (x - mean) / sqrt(var + eps) * weight[c] + bias[c] (biased variance over the group's
 * channels and positions). Same behaviour in train and eval. Defaults: eps 1e-5, affine true.
 */
export class GroupNorm extends Module {
  readonly numGroups: number;
  readonly numChannels: number;
  eps: number;
  readonly affine: boolean;
  weight: Tensor | null;
  bias: Tensor | null;

  constructor(numGroups: number, numChannels: number, opts: { eps?: number; affine?: boolean } = {}) {
    super();
    check(Number.isInteger(numGroups) && numGroups > 0 && Number.isInteger(numChannels) && numChannels > 0 && numChannels % numGroups === 0,
      `GroupNorm: numChannels (${String(numChannels)}) must be a positive multiple of numGroups (${String(numGroups)})`);
    this.numGroups = numGroups;
    this.numChannels = numChannels;
    this.eps = opts.eps ?? 1e-5;
    this.affine = opts.affine ?? true;
    this.weight = this.registerParameter('weight', this.affine ? new Tensor(new Float32Array(numChannels).fill(1), [numChannels]) : null);
    this.bias = this.registerParameter('bias', this.affine ? new Tensor(new Float32Array(numChannels), [numChannels]) : null);
  }

  forward(x: Tensor): Tensor {
    if (x instanceof Tensor && (x.ndim < 2 || x.shape[1] !== this.numChannels)) {
      throw new ShapeError(`GroupNorm: expected input of shape (N, ${this.numChannels}, ...), got ${fmtShape(x.shape)}`);
    }
    return groupNorm(x, this.numGroups, this.weight, this.bias, this.eps);
  }
}
