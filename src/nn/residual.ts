// Residual blocks y = relu(alpha * branch(x) + shortcut(x)): a generic Residual and torchvision's BasicBlock.
import { residualAdd } from '../ops/residual.js';
import { Tensor } from '../tensor/tensor.js';
import { releaseBuffer } from '../tensor/pool.js';
import { ArgumentError, check } from '../tensor/errors.js';
import type { Rng } from '../tensor/rng.js';
import { Module } from './module.js';
import { Sequential } from './sequential.js';
import { fuseBatchNormAct } from './norm/fuse.js';
import { Conv2d } from './layers.js';
import { ReLU } from './activation.js';
import { BatchNorm2d } from './norm/batchnorm.js';

/** The activation after the residual sum: ReLU (ResNet v1) or none. */
export type ResidualAct = 'relu' | null;

/**
 * Hands a tensor made inside a model's forward, and read by nobody but the model and the graph, back to the
 * buffer pool once nothing can read it: at once when its consumer recorded no backward rule (inference), else
 * after backward() ran its own rule (Tensor.recycle), as Sequential does for its intermediates. Why: a heap block
 * not handed back stays taken until the garbage collector finds its view, so a synchronous training loop fills
 * the heap. The model's input is never released.
 */
export function releaseInternal(t: Tensor, input: Tensor, consumer: Tensor): void {
  if (t === input || t.data === input.data || t.data === consumer.data) return;
  if (consumer.backwardFn === null) releaseBuffer(t.data);
  else t.recycle = true;
}

/** What a residual block is made of. */
interface ResidualParts {
  branch: Module;
  shortcut: Module | null;
  act: ResidualAct;
  skipInit: boolean;
  /** The block built branch and shortcut from layers whose outputs nobody else keeps: it may recycle them. */
  owned: boolean;
}

/**
 * The body shared by Residual and BasicBlock: y = act(alpha * branch(x) + shortcut(x)), shortcut the identity
 * when absent, alpha a learnable scalar (state dict key 'alpha', init 0) with SkipInit and 1 otherwise. The sum,
 * alpha and the ReLU run as one op (residualAdd); a branch that is a Sequential keeps its BN + ReLU fusion.
 */
export abstract class ResidualBase extends Module {
  /** The residual branch F (for BasicBlock, a Sequential over conv1, bn1, relu, conv2, bn2 that is not registered itself). */
  readonly branch: Module;
  /** The projection on the skip path (conv1x1 with the block's stride, then a norm), or null for the identity. */
  readonly shortcut: Module | null;
  readonly act: ResidualAct;
  /** SkipInit's scale of the branch, shape [1], init 0; null without SkipInit. */
  readonly alpha: Tensor | null;
  private readonly owned: boolean;

  protected constructor(parts: ResidualParts) {
    super();
    this.branch = parts.branch;
    this.shortcut = parts.shortcut;
    this.act = parts.act;
    this.owned = parts.owned;
    this.alpha = this.registerParameter('alpha', parts.skipInit ? new Tensor(new Float32Array(1), [1]) : null);
  }

  forward(x: Tensor): Tensor {
    const b = this.branch.forward(x);
    const s = this.shortcut === null ? x : this.shortcut.forward(x);
    const y = residualAdd(b, s, { alpha: this.alpha, act: this.act });
    if (this.owned) {
      releaseInternal(b, x, y);
      releaseInternal(s, x, y);
    }
    return y;
  }

  /** The branch's layers in order with their state-dict names (ONNX export names its nodes after them). */
  abstract namedBranch(): [string, Module][];

  /** The shortcut's layers in order with their names; empty for the identity. */
  abstract namedShortcut(): [string, Module][];
}

/** Options of Residual. */
export interface ResidualOptions {
  /** A projection on the skip path (e.g. Sequential(Conv2d 1x1 stride 2, BatchNorm2d)); absent or null: identity. */
  shortcut?: Module | null;
  /** Activation after the sum; default 'relu'. */
  act?: ResidualAct;
  /** Scale the branch by a learnable scalar alpha initialised to 0 (SkipInit, De & Smith 2020). Default false. */
  skipInit?: boolean;
}

/**
 * y = act(alpha * branch(x) + shortcut(x)) around any branch module. State dict keys: branch.*, downsample.* (the
 * shortcut, named as torchvision's), alpha. Defaults: identity shortcut, act 'relu', no SkipInit.
 */
export class Residual extends ResidualBase {
  constructor(branch: Module, opts: ResidualOptions = {}) {
    if (!(branch instanceof Module)) throw new ArgumentError(`Residual: branch must be a Module, got ${String(branch)}`);
    const shortcut = opts.shortcut ?? null;
    if (shortcut !== null && !(shortcut instanceof Module)) {
      throw new ArgumentError(`Residual: shortcut must be a Module or null, got ${String(shortcut)}`);
    }
    const act = opts.act === undefined ? 'relu' : opts.act;
    check(act === 'relu' || act === null, `Residual: act must be 'relu' or null, got ${String(act)}`);
    // Not owned: a user's branch may keep references to its output (a probe), so nothing is recycled.
    super({ branch, shortcut, act, skipInit: opts.skipInit ?? false, owned: false });
    this.registerModule('branch', branch);
    if (shortcut !== null) this.registerModule('downsample', shortcut);
  }

  namedBranch(): [string, Module][] {
    return [['branch', this.branch]];
  }

  namedShortcut(): [string, Module][] {
    return this.shortcut === null ? [] : [['downsample', this.shortcut]];
  }
}

/** Options of BasicBlock. */
export interface BasicBlockOptions {
  /** Stride of conv1 and of the projection shortcut. Default 1. */
  stride?: number;
  /** 'bn' (BatchNorm2d after each conv, convs without bias, as torchvision) or 'none' (convs with bias). Default 'bn'. */
  norm?: 'bn' | 'none';
  /** Scale the branch by a learnable scalar alpha, init 0 (SkipInit). Default false. */
  skipInit?: boolean;
  /** Initialise bn2's gamma to 0, so the block starts as the identity (torchvision's zero_init_residual). Default false. */
  zeroInitLastBn?: boolean;
  rng?: Rng;
}

/**
 * torchvision's BasicBlock (He et al. 2016): y = relu(alpha * bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)),
 * conv1 3x3 with the stride, conv2 3x3, padding 1; the shortcut is the identity when stride is 1 and the widths
 * match, else downsample = conv1x1(stride) + BN (torchvision's option B). State dict keys as torchvision's:
 * conv1.weight, bn1.*, conv2.weight, bn2.*, downsample.0.weight, downsample.1.* (plus .bias of each conv with norm
 * 'none', where no BN beta replaces it, and alpha with SkipInit). bn1 + relu run fused, as in a Sequential.
 */
export class BasicBlock extends ResidualBase {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d | null;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d | null;
  readonly downsample: Sequential | null;
  readonly stride: number;

  constructor(inPlanes: number, planes: number, opts: BasicBlockOptions = {}) {
    const p = basicParts(inPlanes, planes, opts);
    super({ branch: p.branch, shortcut: p.downsample, act: 'relu', skipInit: opts.skipInit ?? false, owned: true });
    this.stride = opts.stride ?? 1;
    this.conv1 = this.registerModule('conv1', p.conv1) as Conv2d;
    this.bn1 = p.bn1 && (this.registerModule('bn1', p.bn1) as BatchNorm2d);
    this.registerModule('relu', p.relu);
    this.conv2 = this.registerModule('conv2', p.conv2) as Conv2d;
    this.bn2 = p.bn2 && (this.registerModule('bn2', p.bn2) as BatchNorm2d);
    this.downsample = p.downsample && (this.registerModule('downsample', p.downsample) as Sequential);
  }

  namedBranch(): [string, Module][] {
    const layers = this.branch as Sequential;
    const names = this.bn1 ? ['conv1', 'bn1', 'relu', 'conv2', 'bn2'] : ['conv1', 'relu', 'conv2'];
    return layers.layers.map((m, i) => [names[i], m]);
  }

  namedShortcut(): [string, Module][] {
    return this.downsample === null ? [] : this.downsample.layers.map((m, i) => [`downsample.${i}`, m]);
  }
}

/** BasicBlock's layers; the branch is a Sequential over them so that BN + ReLU runs fused. */
function basicParts(inPlanes: number, planes: number, opts: BasicBlockOptions) {
  const stride = opts.stride ?? 1;
  const norm = opts.norm ?? 'bn';
  check(norm === 'bn' || norm === 'none', `BasicBlock: norm must be 'bn' or 'none', got ${String(norm)}`);
  check(Number.isInteger(stride) && stride >= 1, `BasicBlock: stride must be a positive integer, got ${String(stride)}`);
  check(!(opts.zeroInitLastBn && norm !== 'bn'), "BasicBlock: zeroInitLastBn needs norm 'bn' (there is no last BN to zero)");
  const bn = norm === 'bn';
  const rng = opts.rng;
  const conv1 = new Conv2d(inPlanes, planes, 3, { stride, padding: 1, bias: !bn, rng });
  const conv2 = new Conv2d(planes, planes, 3, { padding: 1, bias: !bn, rng });
  const bn1 = bn ? new BatchNorm2d(planes) : null;
  const bn2 = bn ? new BatchNorm2d(planes) : null;
  if (bn2 !== null && opts.zeroInitLastBn) bn2.weight!.data.fill(0);
  const relu = new ReLU();
  // bn1 + relu as one op (the pass on the branch's own Sequential; relu stays registered, without keys).
  const branch = fuseBatchNormAct(bn1 && bn2 ? new Sequential(conv1, bn1, relu, conv2, bn2) : new Sequential(conv1, relu, conv2), { inplace: true });
  let downsample: Sequential | null = null;
  if (stride !== 1 || inPlanes !== planes) {
    const proj = new Conv2d(inPlanes, planes, 1, { stride, bias: !bn, rng });
    downsample = bn ? new Sequential(proj, new BatchNorm2d(planes)) : new Sequential(proj);
  }
  return { conv1, bn1, relu, conv2, bn2, branch, downsample };
}
