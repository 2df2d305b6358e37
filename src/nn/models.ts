// Small convnets for 28x28 images: a CIFAR-style ResNet (basic blocks) and a VGG-style net, with validated specs.
import { Tensor } from '../tensor/tensor.js';
import { ArgumentError } from '../tensor/errors.js';
import { Rng } from '../tensor/rng.js';
import { Module } from './module.js';
import { Sequential } from './sequential.js';
import { fuseBatchNormAct } from './norm/fuse.js';
import { Conv2d, Linear } from './layers.js';
import { AdaptiveAvgPool2d, AvgPool2d, Flatten, MaxPool2d, ReLU, Sigmoid } from './activation.js';
import { BatchNorm2d } from './norm/batchnorm.js';
import { GroupNorm } from './norm/layernorm.js';
import { BasicBlock, releaseInternal } from './residual.js';
import { foldConvBn, type FoldsOwnBatchNorm } from './norm/fold.js';
import * as init from './init.js';

/** A spec field that cannot build, and why (for config validation before any trial runs). */
export interface SpecProblem {
  field: string;
  reason: string;
}

/** Throws one ArgumentError listing every problem, each as 'field: reason'. */
function refuse(what: string, problems: SpecProblem[]): void {
  if (problems.length > 0) throw new ArgumentError(`${what}: ${problems.map((p) => `${p.field}: ${p.reason}`).join('; ')}`);
}

const isPosInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0;

/** 'kaiming': convs kaiming_normal(fan_out, relu) and zero biases, as torchvision's ResNet and VGG; 'default': PyTorch's layer defaults. */
export type ConvInit = 'kaiming' | 'default';

/** The image fields shared by both specs. */
interface ImageSpec {
  /** Input channels. Default 1. */
  inChannels?: number;
  /** Input height and width (square). Default 28. */
  imageSize?: number;
  /** Output classes. Default 10. */
  classes?: number;
  /** Weight init of the convolutions. Default 'kaiming'. */
  init?: ConvInit;
  /**
   * Average-pool the input image by this factor first (AvgPool2d(k), no padding): 28x28 becomes 14x14 with 2, a
   * quarter of the convolution work, for quick runs. Default 1 (no pooling).
   */
  inputPool?: number;
}

/** The plane the first conv sees: imageSize after the input pool (floor, as AvgPool2d without padding). */
function pooledSize(spec: ImageSpec): number {
  return Math.floor((spec.imageSize ?? 28) / (spec.inputPool ?? 1));
}

function imageProblems(spec: ImageSpec): SpecProblem[] {
  const out: SpecProblem[] = [];
  if (spec.inChannels !== undefined && !isPosInt(spec.inChannels)) {
    out.push({ field: 'inChannels', reason: `must be a positive integer, got ${String(spec.inChannels)}` });
  }
  if (spec.imageSize !== undefined && !isPosInt(spec.imageSize)) {
    out.push({ field: 'imageSize', reason: `must be a positive integer, got ${String(spec.imageSize)}` });
  }
  if (spec.classes !== undefined && !isPosInt(spec.classes)) {
    out.push({ field: 'classes', reason: `must be a positive integer, got ${String(spec.classes)}` });
  }
  if (spec.init !== undefined && spec.init !== 'kaiming' && spec.init !== 'default') {
    out.push({ field: 'init', reason: `must be 'kaiming' or 'default', got ${String(spec.init)}` });
  }
  const pool = spec.inputPool;
  if (pool !== undefined && !isPosInt(pool)) {
    out.push({ field: 'inputPool', reason: `must be a positive integer (1 = no pooling), got ${String(pool)}` });
  } else if (pool !== undefined && isPosInt(spec.imageSize ?? 28) && pool > (spec.imageSize ?? 28)) {
    out.push({ field: 'inputPool', reason: `${pool} is larger than the image (${spec.imageSize ?? 28} pixels): nothing would be left to pool` });
  }
  return out;
}

function widthProblems(widths: unknown, stages: number | null): SpecProblem[] {
  if (!Array.isArray(widths) || widths.length === 0 || !widths.every(isPosInt)) {
    return [{ field: 'widths', reason: `must be a non-empty list of positive integers, got ${JSON.stringify(widths)}` }];
  }
  if (stages !== null && widths.length !== stages) {
    return [{ field: 'widths', reason: `needs ${stages} entries (one per stage), got ${widths.length}` }];
  }
  return [];
}

/** Convs drawn as the spec says (Linear layers keep PyTorch's default). */
function initConvs(model: Module, how: ConvInit, rng: Rng): void {
  if (how === 'default') return;
  for (const [, m] of model.namedModules()) {
    if (!(m instanceof Conv2d)) continue;
    init.kaimingNormal(m.weight, { mode: 'fanOut', nonlinearity: 'relu', rng });
    if (m.bias !== null) init.zeros(m.bias);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// ResNet

/**
 * The normalization arms of the residual experiment: 'bn' (BN after every conv), 'none', 'skipinit' (no norm, each
 * branch scaled by a learnable scalar that starts at 0; De & Smith 2020), 'bn-zero-gamma' (BN, each block's last
 * gamma initialised to 0; Goyal et al. 2017, torchvision's zero_init_residual).
 */
export type ResNetNorm = 'bn' | 'none' | 'skipinit' | 'bn-zero-gamma';
export const RESNET_NORMS: readonly ResNetNorm[] = ['bn', 'none', 'skipinit', 'bn-zero-gamma'];

/** A CIFAR-style ResNet (He et al. 2016, section 4.2): depth 6n + 2, three stages of n basic blocks. */
export interface ResNetSpec extends ImageSpec {
  /** 6n + 2 with n >= 1: 8, 14, 20, 26, 32, ... */
  depth: number;
  norm: ResNetNorm;
  /** Channels of the three stages. Default [16, 32, 64]. */
  widths?: readonly number[];
}

/** Every reason `spec` cannot build a ResNet (empty when it can). */
export function resnetProblems(spec: ResNetSpec): SpecProblem[] {
  const out = imageProblems(spec);
  const d = spec.depth;
  if (!isPosInt(d) || d < 8 || (d - 2) % 6 !== 0) {
    out.push({ field: 'depth', reason: `must be 6n + 2 with n >= 1 blocks per stage (8, 14, 20, 26, 32, ...), got ${String(d)}` });
  }
  if (!RESNET_NORMS.includes(spec.norm)) out.push({ field: 'norm', reason: `must be one of ${RESNET_NORMS.join(', ')}, got ${String(spec.norm)}` });
  out.push(...widthProblems(spec.widths ?? [16, 32, 64], 3));
  // Stages 2 and 3 halve the plane (ceil, stride 2 with padding 1); the last stage still needs a plane to pool.
  const size = spec.imageSize ?? 28;
  const pooled = pooledSize(spec);
  if (isPosInt(size) && isPosInt(spec.inputPool ?? 1) && pooled < 4) {
    const after = (spec.inputPool ?? 1) > 1 ? ` (${pooled} after the input pool of ${spec.inputPool})` : '';
    out.push({ field: 'imageSize', reason: `must be at least 4 so that the two stride-2 stages have a plane to reduce, got ${size}${after}` });
  }
  return out;
}

/**
 * CIFAR-style ResNet in torchvision's names: [inputPool (AvgPool2d) when spec.inputPool > 1] -> conv1 (3x3) -> bn1 ->
 * relu -> layer1..layer3 (n BasicBlocks each; the first block of layers 2 and 3 has stride 2 and a conv1x1 + BN
 * shortcut) -> avgpool (global) -> fc. Its forward recycles the tensors passed between blocks (see releaseInternal);
 * `blocks` lists the blocks in order. foldBatchNorm folds it through foldedBatchNorm (its forward is not a Sequential).
 */
export class ResNet extends Module implements FoldsOwnBatchNorm {
  readonly blocks: BasicBlock[];
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d | null;
  readonly fc: Linear;
  /** The stem as a Sequential (not registered: conv1, bn1 and relu are), so that bn1 + relu run fused. */
  private readonly stem: Sequential;
  private readonly pool: AvgPool2d | null;
  private readonly avgpool = new AdaptiveAvgPool2d(1);
  private readonly flatten = new Flatten();

  constructor(readonly spec: Readonly<ResNetSpec>, rng: Rng) {
    super();
    refuse('resnet', resnetProblems(spec));
    const widths = spec.widths ?? [16, 32, 64];
    const bn = spec.norm === 'bn' || spec.norm === 'bn-zero-gamma';
    // Parameterless, registered first so that ONNX export (namedLayers) sees it before conv1; no state dict keys.
    const k = spec.inputPool ?? 1;
    this.pool = k > 1 ? (this.registerModule('inputPool', new AvgPool2d(k)) as AvgPool2d) : null;
    this.conv1 = this.registerModule('conv1', new Conv2d(spec.inChannels ?? 1, widths[0], 3, { padding: 1, bias: !bn, rng })) as Conv2d;
    this.bn1 = bn ? (this.registerModule('bn1', new BatchNorm2d(widths[0])) as BatchNorm2d) : null;
    const relu = this.registerModule('relu', new ReLU());
    this.stem = fuseBatchNormAct(this.bn1 ? new Sequential(this.conv1, this.bn1, relu) : new Sequential(this.conv1, relu), { inplace: true });
    const n = (spec.depth - 2) / 6;
    this.blocks = [];
    let inPlanes = widths[0];
    const block = {
      norm: bn ? ('bn' as const) : ('none' as const),
      rng,
      skipInit: spec.norm === 'skipinit',
      zeroInitLastBn: spec.norm === 'bn-zero-gamma',
    };
    widths.forEach((planes, s) => {
      const stage: BasicBlock[] = [];
      for (let i = 0; i < n; i++) {
        // The first block of every stage after the first halves the image (stride 2) and widens the channels.
        stage.push(new BasicBlock(inPlanes, planes, { ...block, stride: s > 0 && i === 0 ? 2 : 1 }));
        inPlanes = planes;
      }
      this.registerModule(`layer${s + 1}`, new Sequential(...stage));
      this.blocks.push(...stage);
    });
    this.registerModule('avgpool', this.avgpool);
    this.fc = this.registerModule('fc', new Linear(inPlanes, spec.classes ?? 10, { rng })) as Linear;
    initConvs(this, spec.init ?? 'kaiming', rng);
  }

  forward(x: Tensor): Tensor {
    const input = this.pool === null ? x : this.pool.forward(x);
    let h = this.stem.forward(input);
    if (input !== x) releaseInternal(input, x, h);
    for (const block of this.blocks) {
      const y = block.forward(h);
      releaseInternal(h, x, y);
      h = y;
    }
    const pooled = this.avgpool.forward(h);
    releaseInternal(h, x, pooled);
    return this.fc.forward(this.flatten.forward(pooled));
  }

  /** The layers in forward order with their state-dict names (stages as Sequentials): what ONNX export unrolls. */
  namedLayers(): [string, Module][] {
    const kids = this.namedChildren();
    const fc = kids.findIndex(([k]) => k === 'fc');
    return [...kids.slice(0, fc), ['flatten', this.flatten], ...kids.slice(fc)];
  }

  /**
   * The same function in eval mode without BatchNorm: a ResNet of norm 'none' (or 'skipinit', alpha kept) whose convs
   * carry each BN folded in (W' = s W, b' = s (b - running_mean) + beta, s = gamma / sqrt(running_var + eps)), the
   * shortcut's conv1x1 + BN included. State dict keys are torchvision's without the bn entries, plus each conv's bias.
   */
  foldedBatchNorm(): ResNet {
    const norm: ResNetNorm = this.spec.norm === 'skipinit' ? 'skipinit' : 'none';
    const out = new ResNet({ ...this.spec, norm }, new Rng(0));
    const put = (dst: Conv2d, src: Conv2d, bn: BatchNorm2d | null, where: string) => {
      const f = bn === null ? src : (foldConvBn(src, bn, where) as Conv2d);
      dst.weight.data.set(f.weight.data);
      if (dst.bias !== null) dst.bias.data.set(f.bias === null ? new Float32Array(dst.bias.size) : f.bias.data);
    };
    put(out.conv1, this.conv1, this.bn1, 'bn1');
    this.blocks.forEach((b, i) => {
      const o = out.blocks[i];
      put(o.conv1, b.conv1, b.bn1, `block ${i} bn1`);
      put(o.conv2, b.conv2, b.bn2, `block ${i} bn2`);
      if (b.downsample !== null) {
        put(o.downsample!.layers[0] as Conv2d, b.downsample.layers[0] as Conv2d, (b.downsample.layers[1] as BatchNorm2d) ?? null,
          `block ${i} downsample.1`);
      }
      if (b.alpha !== null) o.alpha!.data.set(b.alpha.data);
    });
    out.fc.weight.data.set(this.fc.weight.data);
    out.fc.bias!.data.set(this.fc.bias!.data);
    return out.eval();
  }
}

/** Builds the ResNet `spec` describes, all randomness from `seed`; throws an ArgumentError naming each bad field. */
export function resnet(spec: ResNetSpec, seed = 0): ResNet {
  return new ResNet(spec, new Rng(seed * 7919 + 23));
}

// ---------------------------------------------------------------------------------------------------------------
// VGG

/**
 * The normalization arms of the cnn experiment: 'bn' (BatchNorm2d), 'none', 'group' (GroupNorm with `groups`
 * groups) and 'layer' (GroupNorm(1, C): statistics per sample over all channels and positions, Wu & He's "LN" for
 * convnets, with a per-channel affine; nn.LayerNorm([C, H, W]) would learn one per position and tie the net to one
 * image size).
 */
export type VggNorm = 'bn' | 'none' | 'group' | 'layer';
export const VGG_NORMS: readonly VggNorm[] = ['bn', 'none', 'group', 'layer'];

/** A VGG-style net: stages of [conv3x3 -> norm -> act] x convsPerStage, each stage ending in a 2x2 max pool. */
export interface VggSpec extends ImageSpec {
  norm: VggNorm;
  /** Channels of each stage. Default [16, 32, 64]. */
  widths?: readonly number[];
  /** Convolutions per stage. Default 1. */
  convsPerStage?: number;
  /** GroupNorm groups for norm 'group' (every width must be a multiple). Default 4. */
  groups?: number;
  /** Activation. Default 'relu'. */
  activation?: 'relu' | 'sigmoid';
  /** The norm 'before' the activation (conv -> norm -> act, the paper's) or 'after' it (conv -> act -> norm). Default 'before'. */
  normPosition?: 'before' | 'after';
  /** A BatchNorm2d on the input image as the first layer. Default false. */
  inputNorm?: boolean;
}

/** Every reason `spec` cannot build a VGG net (empty when it can). */
export function vggProblems(spec: VggSpec): SpecProblem[] {
  const out = imageProblems(spec);
  if (!VGG_NORMS.includes(spec.norm)) out.push({ field: 'norm', reason: `must be one of ${VGG_NORMS.join(', ')}, got ${String(spec.norm)}` });
  const widths = spec.widths ?? [16, 32, 64];
  out.push(...widthProblems(widths, null));
  if (spec.convsPerStage !== undefined && !isPosInt(spec.convsPerStage)) {
    out.push({ field: 'convsPerStage', reason: `must be a positive integer, got ${String(spec.convsPerStage)}` });
  }
  if (spec.activation !== undefined && spec.activation !== 'relu' && spec.activation !== 'sigmoid') {
    out.push({ field: 'activation', reason: `must be 'relu' or 'sigmoid', got ${String(spec.activation)}` });
  }
  if (spec.normPosition !== undefined && spec.normPosition !== 'before' && spec.normPosition !== 'after') {
    out.push({ field: 'normPosition', reason: `must be 'before' or 'after', got ${String(spec.normPosition)}` });
  }
  const groups = spec.groups ?? 4;
  if (spec.norm === 'group') {
    if (!isPosInt(groups)) out.push({ field: 'groups', reason: `must be a positive integer, got ${String(spec.groups)}` });
    else if (Array.isArray(widths)) {
      const bad = widths.filter((w) => isPosInt(w) && w % groups !== 0);
      if (bad.length > 0) {
        out.push({ field: 'widths', reason: `${bad.join(', ')} not divisible by groups = ${groups} (GroupNorm splits each layer's channels ` +
          `into equal groups)` });
      }
    }
  }
  const size = spec.imageSize ?? 28;
  const pooled = pooledSize(spec);
  if (isPosInt(size) && isPosInt(spec.inputPool ?? 1) && Array.isArray(widths) && pooled >> widths.length < 1) {
    const chain = widths.reduce((s: number[]) => [...s, Math.floor(s[s.length - 1] / 2)], [pooled]);
    const after = (spec.inputPool ?? 1) > 1 ? ` after the input pool of ${spec.inputPool}` : '';
    out.push({ field: 'imageSize', reason: `${size} cannot be max-pooled 2x2 once per stage ${widths.length} times${after} ` +
      `(${chain.join(' -> ')}); use fewer stages or a larger image` });
  }
  return out;
}

/** The norm layer of one VGG conv; null for 'none'. */
function vggNorm(spec: VggSpec, c: number): Module | null {
  switch (spec.norm) {
    case 'none':
      return null;
    case 'bn':
      return new BatchNorm2d(c);
    case 'group':
      return new GroupNorm(spec.groups ?? 4, c);
    case 'layer':
      return new GroupNorm(1, c);
    default: {
      const never: never = spec.norm;
      throw new ArgumentError(`vgg: unknown norm '${String(never)}'`);
    }
  }
}

/**
 * A VGG-style Sequential: [AvgPool2d(inputPool) if inputPool > 1] [BatchNorm2d(inChannels) if inputNorm] then per stage [Conv2d 3x3 pad 1 ->
 * norm -> act]
 * x convsPerStage -> MaxPool2d(2), then Flatten -> Linear(classes). A conv followed by its norm (before the
 * activation) has no bias, as BN's beta replaces it; otherwise it has one. BN + ReLU/Sigmoid (and ReLU + max pool)
 * run fused by fuseBatchNormAct, keeping the state dict keys. All randomness from `seed`; throws an ArgumentError naming each bad field.
 */
export function vgg(spec: VggSpec, seed = 0): Sequential {
  refuse('vgg', vggProblems(spec));
  const rng = new Rng(seed * 7919 + 29);
  const widths = spec.widths ?? [16, 32, 64];
  const after = spec.normPosition === 'after';
  const act = () => (spec.activation === 'sigmoid' ? new Sigmoid() : new ReLU());
  const layers: Module[] = [];
  let c = spec.inChannels ?? 1;
  const k = spec.inputPool ?? 1;
  if (k > 1) layers.push(new AvgPool2d(k));
  if (spec.inputNorm) layers.push(new BatchNorm2d(c));
  let size = pooledSize(spec);
  for (const w of widths) {
    for (let i = 0; i < (spec.convsPerStage ?? 1); i++) {
      const norm = vggNorm(spec, w);
      layers.push(new Conv2d(c, w, 3, { padding: 1, bias: norm === null || after, rng }));
      if (norm === null) layers.push(act());
      else layers.push(...(after ? [act(), norm] : [norm, act()]));
      c = w;
    }
    layers.push(new MaxPool2d(2));
    size = Math.floor(size / 2);
  }
  layers.push(new Flatten(), new Linear(c * size * size, spec.classes ?? 10, { rng }));
  const model = new Sequential(...layers);
  initConvs(model, spec.init ?? 'kaiming', rng);
  // The explicit pass (as resnet's stem and blocks): fused slots become Identity, so state dict keys stay.
  return fuseBatchNormAct(model, { inplace: true });
}
