// Model builders for the lab: MLPs with a choice of normalization, activation, init and dropout, plus probes.
import { Module } from '../nn/module.js';
import { Linear } from '../nn/layers.js';
import { Sequential } from '../nn/sequential.js';
import { ReLU, Sigmoid, Tanh, Dropout, Flatten, Identity } from '../nn/activation.js';
import * as init from '../nn/init.js';
import { BatchNorm1d, BatchNormBase, BatchRenorm1d, LayerNorm, GroupNorm } from '../nn/norm/index.js';
import { fuseBatchNormAct } from '../nn/norm/fuse.js';
import { Tensor } from '../tensor/tensor.js';
import { Rng } from '../tensor/rng.js';
import { ArgumentError } from '../tensor/errors.js';
import { record } from '../autograd/record.js';
import { mul } from '../ops/elementwise.js';

export type ActivationName = 'sigmoid' | 'tanh' | 'relu';

/** Normalization of each hidden layer: after its Linear, before the activation (as the paper) unless MlpSpec.position says 'after'. */
export type NormKind = 'none' | 'bn' | 'ghost' | 'renorm' | 'layer' | 'group' | 'noisy-bn';

/** How hidden and output weights are drawn. 'default' is PyTorch's Linear init. */
export type InitSpec = { kind: 'normal'; std: number } | { kind: 'xavier' } | { kind: 'kaiming' } | { kind: 'default' };

export interface MlpSpec {
  inputs: number;
  hidden: number[];
  classes: number;
  activation: ActivationName;
  norm: NormKind;
  init: InitSpec;
  /** Dropout probability after each hidden activation (0 = none). */
  dropout?: number;
  /** BN momentum (PyTorch convention, weight of the new batch; null = cumulative average). */
  momentum?: number | null;
  /** BN eps (bn, ghost, renorm, noisy-bn); default 1e-5. */
  eps?: number;
  /**
   * Where the normalization sits: 'before' the activation (default, the paper's Linear -> BN -> act) or 'after' it
   * (Linear -> act -> BN, a common variant). After the activation the Linear keeps its bias: BN's beta comes too late
   * to replace it.
   */
  position?: 'before' | 'after';
  /**
   * When set, dropout layer i draws its masks from Rng(dropoutSeed + i) instead of a fork of the model's stream,
   * so two models that differ only in normalization drop the same units at every step.
   */
  dropoutSeed?: number;
  /** Ghost BN virtual batch size (norm 'ghost'). */
  virtualBatchSize?: number;
  /** Batch Renorm limits (norm 'renorm'); schedules live in the trial. */
  rMax?: number;
  dMax?: number;
  /** GroupNorm groups (norm 'group'). */
  groups?: number;
  /** Noise of the noisy-BN ablation: shift ~ U(-a, a), scale ~ U(1, 1 + b), fresh every training step. */
  noise?: { shift: number; scale: number };
  /** A BatchNorm1d(inputs) on the flattened input before the first Linear (BN on the inputs). Default false. */
  inputNorm?: boolean;
}

/** What fuseBatchNormAct fused across a tap: the BatchNorm before it and the activation layer it absorbed. */
interface FusedAcross {
  bn: BatchNormBase;
  activation: Module;
  kind: 'relu' | 'sigmoid';
}

/**
 * Records the tensor flowing through it (the input of the next activation). Identity otherwise (a subclass of it,
 * so that export skips it); enabled only while probing so the normal path keeps no references.
 *
 * buildMlp fuses the BatchNorm before a tap with the activation after it (fuseBatchNormAct looking past taps), so
 * the activation's input exists only while a tap looks: enabling the tap undoes that fusion (the BatchNorm
 * stops applying the activation, the tap applies the absorbed layer after recording), disabling it restores it.
 * Either way the values and gradients are bit-identical.
 */
export class Tap extends Identity {
  last: Tensor | null = null;
  private on = false;
  private fused: FusedAcross | null = null;

  get enabled(): boolean {
    return this.on;
  }

  set enabled(v: boolean) {
    this.on = v;
    if (this.fused !== null) this.fused.bn.act = v ? null : this.fused.kind;
  }

  /** Called by buildMlp after fusion: bn now applies `activation` (kind), whose slot after this tap is an Identity. */
  fusedAcross(bn: BatchNormBase, activation: Module, kind: 'relu' | 'sigmoid'): void {
    this.fused = { bn, activation, kind };
  }

  override forward(x: Tensor): Tensor {
    if (!this.on) return x;
    this.last = x;
    return this.fused === null ? x : this.fused.activation.forward(x);
  }
}

/**
 * Santurkar et al.'s noisy BN: y * s + b with s, b random per unit and resampled every training forward,
 * so the next layer's input distribution shifts at every step. Eval multiplies by the mean scale 1 + scale/2.
 */
export class DistributionNoise extends Module {
  /**
   * When true, training forwards reuse the last draw instead of resampling: probes that re-run one step's
   * batch (ICS, loss along the gradient) must see the same noise as the step itself.
   */
  hold = false;
  private s: Float32Array | null = null;
  private b: Float32Array | null = null;

  constructor(readonly features: number, readonly shift: number, readonly scale: number, private readonly rng: Rng) {
    super();
  }
  forward(x: Tensor): Tensor {
    const f = this.features;
    // Eval applies the expected transform E[s] = 1 + scale/2, E[b] = 0 (as inverted dropout keeps the mean):
    // plain identity would hand the next layer inputs 1/(1 + scale/2) of the size it was trained on.
    if (!this.training) return this.scale === 0 ? x : mul(x, 1 + this.scale / 2);
    if (!this.hold || this.s === null || this.b === null) {
      this.s = new Float32Array(f);
      this.b = new Float32Array(f);
      for (let j = 0; j < f; j++) {
        this.s[j] = 1 + this.scale * this.rng.uniform();
        this.b[j] = this.shift * (2 * this.rng.uniform() - 1);
      }
    }
    const s = this.s;
    const b = this.b;
    const xd = x.data;
    const out = new Float32Array(xd.length);
    for (let i = 0; i < xd.length; i++) out[i] = xd[i] * s[i % f] + b[i % f];
    return record(new Tensor(out, x.shape), 'distributionNoise', [x], (g) => {
      const gx = x.gradBuffer();
      for (let i = 0; i < g.length; i++) gx[i] += g[i] * s[i % f];
    });
  }
}

/** A built MLP: the model, its Linear layers in order, and a Tap before every activation. */
export interface BuiltMlp {
  model: Sequential;
  linears: Linear[];
  norms: Module[];
  /** taps[i] sees the input of hidden layer i's activation (after normalization). */
  taps: Tap[];
}

function activation(name: ActivationName): Module {
  switch (name) {
    case 'sigmoid':
      return new Sigmoid();
    case 'tanh':
      return new Tanh();
    case 'relu':
      return new ReLU();
    default: {
      const never: never = name;
      throw new ArgumentError(`unknown activation '${String(never)}' (expected sigmoid, tanh or relu)`);
    }
  }
}

function normLayer(spec: MlpSpec, width: number, rng: Rng): Module[] {
  const momentum = spec.momentum === undefined ? 0.1 : spec.momentum;
  const eps = spec.eps;
  switch (spec.norm) {
    case 'none':
      return [];
    case 'bn':
      return [new BatchNorm1d(width, { momentum, eps })];
    case 'ghost':
      return [new BatchNorm1d(width, { momentum, eps, virtualBatchSize: spec.virtualBatchSize ?? 16 })];
    case 'renorm':
      return [new BatchRenorm1d(width, { momentum, eps, rMax: spec.rMax ?? 3, dMax: spec.dMax ?? 5 })];
    case 'layer':
      return [new LayerNorm([width])];
    case 'group':
      return [new GroupNorm(spec.groups ?? 4, width)];
    case 'noisy-bn':
      return [new BatchNorm1d(width, { momentum, eps }), new DistributionNoise(width, spec.noise?.shift ?? 1, spec.noise?.scale ?? 1, rng.fork())];
    default: {
      const never: never = spec.norm;
      throw new ArgumentError(`unknown norm '${String(never)}'`);
    }
  }
}

function initLinear(l: Linear, spec: InitSpec, act: ActivationName, rng: Rng): void {
  switch (spec.kind) {
    case 'default':
      init.torchDefaultInit(l.weight, l.bias, rng);
      return;
    case 'normal':
      init.normal(l.weight, { std: spec.std, rng });
      break;
    case 'xavier':
      init.xavierNormal(l.weight, { gain: init.calculateGain(act), rng });
      break;
    case 'kaiming':
      init.kaimingNormal(l.weight, { nonlinearity: act === 'relu' ? 'relu' : act, rng });
      break;
    default: {
      const never: never = spec;
      throw new ArgumentError(`unknown init ${JSON.stringify(never)}`);
    }
  }
  if (l.bias !== null) init.zeros(l.bias);
}

/**
 * Flatten -> [BatchNorm1d(inputs) if inputNorm] -> inputs -> [Linear -> norm -> Tap -> activation -> dropout] x hidden -> Linear(classes)
 * (with position 'after': [Linear -> Tap -> activation -> norm -> dropout]).
 * The leading Flatten lets image batches (N, 1, 28, 28) reach the first Linear; it is a view (no copy)
 * and a no-op on (N, inputs). With a normalization the hidden Linear has no bias (beta replaces it, as the paper notes).
 * All randomness comes from `seed`, so a trial is reproducible.
 */
export function buildMlp(spec: MlpSpec, seed: number): BuiltMlp {
  const rng = new Rng(seed * 7919 + 17);
  const layers: Module[] = [new Flatten()];
  if (spec.inputNorm) layers.push(new BatchNorm1d(spec.inputs));
  const linears: Linear[] = [];
  const norms: Module[] = [];
  const taps: Tap[] = [];
  const after = spec.position === 'after';
  let width = spec.inputs;
  for (const [i, h] of spec.hidden.entries()) {
    const lin = new Linear(width, h, { bias: spec.norm === 'none' || after, rng });
    initLinear(lin, spec.init, spec.activation, rng);
    linears.push(lin);
    layers.push(lin);
    const ns = normLayer(spec, h, rng);
    norms.push(...ns);
    if (!after) layers.push(...ns);
    const tap = new Tap();
    taps.push(tap);
    layers.push(tap, activation(spec.activation));
    if (after) layers.push(...ns);
    if (spec.dropout && spec.dropout > 0) {
      const dropRng = spec.dropoutSeed === undefined ? rng.fork() : new Rng(spec.dropoutSeed + i);
      layers.push(new Dropout(spec.dropout, { rng: dropRng }));
    }
    width = h;
  }
  const out = new Linear(width, spec.classes, { rng });
  initLinear(out, spec.init, 'sigmoid', rng);
  linears.push(out);
  layers.push(out);
  return { model: fuseAcrossTaps(layers), linears, norms, taps };
}

/**
 * The model with each BatchNorm + activation fused (fuseBatchNormAct, looking past the tap between them); each tap
 * learns what was fused across it, so that it can undo the fusion while it records (see Tap).
 */
function fuseAcrossTaps(layers: Module[]): Sequential {
  const model = fuseBatchNormAct(new Sequential(...layers), { inplace: true, lookPast: (m) => m instanceof Tap });
  layers.forEach((m, i) => {
    const bn = layers[i - 1];
    if (!(m instanceof Tap) || !(bn instanceof BatchNormBase) || bn.act === null) return;
    // The absorbed activation is the layer after the tap in the list as built (the model now holds an Identity there).
    m.fusedAcross(bn, layers[i + 1], bn.act);
  });
  return model;
}
