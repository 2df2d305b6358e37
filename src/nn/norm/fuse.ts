// fuseBatchNormAct: the explicit fusion pass (as torch.ao.quantization.fuse_modules) for BN + activation and ReLU + MaxPool2d.
import { ArgumentError } from '../../tensor/errors.js';
import { Module } from '../module.js';
import { Sequential } from '../sequential.js';
import { Identity, MaxPool2d, ReLU, Sigmoid } from '../activation.js';
import { ReLUMaxPool2d } from '../fused.js';
import { BatchNormBase } from './batchnorm.js';
import { deepCopyModule } from './fold.js';

/** Options of fuseBatchNormAct. */
export interface FuseOptions {
  /** Rewrite the model itself instead of a deep copy (torch's inplace). Default false. */
  inplace?: boolean;
  /**
   * Layers that may sit between a BatchNorm and its activation without blocking the fusion (besides Identity).
   * Such a layer then sees the activation's output, not its input, unless it undoes the fusion while it looks
   * (the lab's Tap does). Default: none.
   */
  lookPast?: (m: Module) => boolean;
}

/** A BatchNorm whose forward is BatchNormBase's own (a subclass overriding forward keeps its override). */
function fusableBn(m: Module | undefined): m is BatchNormBase {
  return m instanceof BatchNormBase && m.forward === BatchNormBase.prototype.forward && m.act === null;
}

/** 'relu' / 'sigmoid' for exactly those classes (a subclass may do something else), else null. */
function actKind(m: Module | undefined): 'relu' | 'sigmoid' | null {
  return m?.constructor === ReLU ? 'relu' : m?.constructor === Sigmoid ? 'sigmoid' : null;
}

/**
 * Rewrites one Sequential's layer list in place, torch's way: the fused module takes the first slot, Identity the
 * others, so positions (and state dict keys) stay. A ReLU followed by a MaxPool2d fuses with the pool (one pass
 * over the larger tensor) rather than with the BatchNorm before it.
 */
function fuseLayers(seq: Sequential, lookPast: (m: Module) => boolean): void {
  const layers = seq.layers;
  for (let i = 0; i < layers.length; i++) {
    const m = layers[i];
    const next = layers[i + 1];
    if (actKind(m) === 'relu' && next?.constructor === MaxPool2d) {
      const pool = next as MaxPool2d;
      seq.setLayer(i, new ReLUMaxPool2d(pool.kernelSize, pool.opts));
      seq.setLayer(i + 1, new Identity());
      i++;
      continue;
    }
    if (!fusableBn(m)) continue;
    let j = i + 1;
    while (j < layers.length && (layers[j].constructor === Identity || lookPast(layers[j]))) j++;
    const kind = actKind(layers[j]);
    if (kind === null || (kind === 'relu' && layers[j + 1]?.constructor === MaxPool2d)) continue;
    m.act = kind;
    seq.setLayer(j, new Identity());
    i = j;
  }
}

/**
 * The fusion pass: in every Sequential of the model, a BatchNorm (any BatchNormBase that keeps its own forward)
 * followed by a ReLU or Sigmoid, directly or past Identity layers, becomes one op: the BatchNorm's `act` is set
 * (y = act(BN(x)) in the passes BN makes anyway) and the activation's slot becomes Identity. A ReLU directly
 * followed by a MaxPool2d becomes ReLUMaxPool2d and Identity instead. Values, gradients and running statistics
 * are bit-identical to the unfused model, and its state dict keys are unchanged (the BatchNorm keeps its
 * parameters and buffers where they were; activations and pools have none), so weights load either way.
 * Returns a deep copy unless `inplace`. Layers inside other containers than Sequential are left alone.
 */
export function fuseBatchNormAct<M extends Module>(model: M, opts: FuseOptions = {}): M {
  if (!(model instanceof Module)) throw new ArgumentError('fuseBatchNormAct: expected a Module');
  const out = opts.inplace ? model : deepCopyModule(model);
  const lookPast = opts.lookPast ?? (() => false);
  for (const [, m] of out.namedModules()) if (m instanceof Sequential) fuseLayers(m, lookPast);
  return out;
}
