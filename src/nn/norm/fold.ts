// foldBatchNorm: merges each eval-mode BatchNorm into the Linear or Conv2d before it, for inference.
import { Tensor } from '../../tensor/tensor.js';
import { ArgumentError } from '../../tensor/errors.js';
import { Rng } from '../../tensor/rng.js';
import { Module } from '../module.js';
import { Sequential } from '../sequential.js';
import { Conv2d, Linear } from '../layers.js';
import { Identity, ReLU, Sigmoid } from '../activation.js';
import { BatchNormBase, BatchNorm1d, BatchNorm2d } from './batchnorm.js';

/**
 * A deep copy of a module tree (as Python's copy.deepcopy): tensors get new data, shared references stay shared.
 * Generic over fields so that any Module subclass (with plain TypeScript fields) copies without its own clone().
 */
export function deepCopyModule<M extends Module>(model: M): M {
  const seen = new Map<unknown, unknown>();
  const copy = (v: unknown): unknown => {
    if (v === null || typeof v !== 'object') return v;
    if (seen.has(v)) return seen.get(v);
    let out: unknown;
    if (v instanceof Tensor) {
      out = new Tensor(v.data.slice(), v.shape, v.requiresGrad);
    } else if (ArrayBuffer.isView(v)) {
      out = (v as unknown as { slice(): unknown }).slice();
    } else if (v instanceof Map) {
      const m = new Map();
      seen.set(v, m);
      for (const [k, x] of v) m.set(k, copy(x));
      return m;
    } else if (Array.isArray(v)) {
      const a: unknown[] = [];
      seen.set(v, a);
      for (const x of v) a.push(copy(x));
      return a;
    } else {
      const o = Object.create(Object.getPrototypeOf(v)) as object;
      seen.set(v, o);
      for (const key of Reflect.ownKeys(v)) {
        const desc = Object.getOwnPropertyDescriptor(v, key)!;
        if ('value' in desc) desc.value = copy(desc.value);
        Object.defineProperty(o, key, desc);
      }
      return o;
    }
    seen.set(v, out);
    return out;
  };
  return copy(model) as M;
}

const join = (path: string, name: string) => (path ? `${path}.${name}` : name);

/**
 * A model whose forward is not a Sequential and that folds its own BatchNorms (ResNet): foldBatchNorm calls
 * foldedBatchNorm() on it (already a copy) and uses what it returns, an eval model computing the same function.
 */
export interface FoldsOwnBatchNorm {
  foldedBatchNorm(): Module;
}

function foldsOwn(m: Module): m is Module & FoldsOwnBatchNorm {
  return typeof (m as Partial<FoldsOwnBatchNorm>).foldedBatchNorm === 'function';
}

/**
 * A new Linear or Conv2d (with bias) computing bn(layer(x)) in eval mode: W' = W * s per output channel,
 * b' = (b - running_mean) * s + beta, s = gamma / sqrt(running_var + eps). `where` names the BN in errors.
 */
export function foldConvBn(layer: Linear | Conv2d, bn: BatchNormBase, where: string): Linear | Conv2d {
  const name = bn.constructor.name;
  if (bn.runningMean === null || bn.runningVar === null) {
    throw new ArgumentError(`foldBatchNorm: ${name} at '${where}' has no running statistics (trackRunningStats false), so in eval it uses ` +
      `batch statistics and is not a fixed affine map`);
  }
  const isLinear = layer instanceof Linear;
  const out = isLinear ? layer.outFeatures : layer.outChannels;
  if ((isLinear && !(bn instanceof BatchNorm1d)) || (!isLinear && !(bn instanceof BatchNorm2d)) || out !== bn.numFeatures) {
    throw new ArgumentError(`foldBatchNorm: ${name}(${bn.numFeatures}) at '${where}' does not match the ${layer.constructor.name} before it ` +
      `(${out} outputs)`);
  }
  // A throwaway generator: the constructor's initial draw must not advance the global stream.
  const rng = new Rng(0);
  const fused = isLinear
    ? new Linear(layer.inFeatures, layer.outFeatures, { bias: true, rng })
    : new Conv2d(layer.inChannels, layer.outChannels, layer.kernelSize, { stride: layer.stride, padding: layer.padding, bias: true, rng });
  const per = layer.weight.size / out;
  const w = layer.weight.data;
  for (let c = 0; c < out; c++) {
    const s = (bn.weight ? bn.weight.data[c] : 1) / Math.sqrt(bn.runningVar.data[c] + bn.eps);
    for (let i = c * per; i < (c + 1) * per; i++) fused.weight.data[i] = w[i] * s;
    const b = layer.bias ? layer.bias.data[c] : 0;
    fused.bias!.data[c] = (b - bn.runningMean.data[c]) * s + (bn.bias ? bn.bias.data[c] : 0);
  }
  return fused;
}

function fold(m: Module, path: string): Module {
  if (foldsOwn(m)) return m.foldedBatchNorm();
  if (m instanceof BatchNormBase) {
    throw new ArgumentError(`foldBatchNorm: ${m.constructor.name} at '${path || '(root)'}' is not preceded by a Linear or Conv2d, so it cannot ` +
      `be folded`);
  }
  if (m instanceof Sequential) {
    const out: Module[] = [];
    m.layers.forEach((child, i) => {
      const where = join(path, String(i));
      if (child instanceof BatchNormBase) {
        const prev = i > 0 ? m.layers[i - 1] : null;
        if (!(prev instanceof Linear || prev instanceof Conv2d)) {
          const after = prev ? `follows ${prev.constructor.name} at '${join(path, String(i - 1))}'` : 'is the first layer';
          throw new ArgumentError(`foldBatchNorm: ${child.constructor.name} at '${where}' ${after}, not a Linear or Conv2d, so it cannot be folded`);
        }
        out[i - 1] = foldConvBn(prev, child, where);
        // Identity keeps the positions, so state dict keys of the other layers stay those of the original; a BN
        // that fuseBatchNormAct gave an activation leaves that activation in its place.
        out.push(child.act === 'relu' ? new ReLU() : child.act === 'sigmoid' ? new Sigmoid() : new Identity());
      } else {
        out.push(fold(child, where));
      }
    });
    return new Sequential(...out);
  }
  for (const [name, sub] of m.namedModules()) {
    if (sub instanceof BatchNormBase) {
      throw new ArgumentError(`foldBatchNorm: ${sub.constructor.name} at '${join(path, name)}' is inside a ${m.constructor.name}; only ` +
        `BatchNorm layers of a Sequential, right after a Linear or Conv2d, can be folded`);
    }
  }
  return m;
}

/**
 * A new eval-only model in which every BatchNorm that directly follows a Linear (BatchNorm1d) or Conv2d
 * (BatchNorm2d) in a Sequential is merged into that layer and replaced by Identity (by its activation when
 * fuseBatchNormAct fused one into it); a model that folds itself (FoldsOwnBatchNorm: a ResNet, its blocks'
 * conv/BN pairs and conv1x1 + BN shortcuts included) gives its own folded copy. Eval BN is the affine map
 * y = s (x - running_mean) + beta with s = gamma / sqrt(running_var + eps), so
 *   W' = s W (row / output channel c scaled by s_c),  b' = s (b - running_mean) + beta.
 * The original model is not changed. Throws an ArgumentError for a BN that is not preceded by a foldable layer,
 * that has no running statistics, or that sits inside a module other than Sequential.
 */
export function foldBatchNorm<M extends Module>(model: M): M {
  if (!(model instanceof Module)) throw new ArgumentError('foldBatchNorm: expected a Module');
  const copy = deepCopyModule(model);
  return fold(copy, '').eval() as M;
}
