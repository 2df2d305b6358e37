// BatchNorm1d and BatchNorm2d modules with PyTorch semantics, plus Ghost BN, freezing and a Keras-convention constructor.
import { bnCore, type RenormLimits } from '../../ops/norm/batchnorm.js';
import type { BnAct } from '../../kernels/kernels.js';
import { Tensor } from '../../tensor/tensor.js';
import { ArgumentError, ShapeError, check, fmtShape } from '../../tensor/errors.js';
import { Module } from '../module.js';

/** Options of BatchNorm1d / BatchNorm2d; names and defaults are PyTorch's (camelCase). */
export interface BatchNormModuleOptions {
  /** Added to the variance before the square root. Default 1e-5 (Keras: 1e-3). */
  eps?: number;
  /**
   * Weight of the NEW batch statistic in the running update: r = (1 - momentum) r + momentum x_B. Default 0.1.
   * Keras' momentum is the weight of the OLD value (default 0.99 = PyTorch 0.01). null: cumulative moving average,
   * factor 1/numBatchesTracked.
   */
  momentum?: number | null;
  /** Learnable per-channel weight (gamma, init 1) and bias (beta, init 0). Default true. */
  affine?: boolean;
  /** Keep running_mean / running_var / num_batches_tracked; without them eval also uses batch statistics. Default true. */
  trackRunningStats?: boolean;
  /**
   * Ghost BN (Hoffer et al. 2017): in training, statistics per virtual sub-batch of this many samples (the last one
   * may be smaller); the running statistics are updated once per sub-batch. Default null (the whole batch).
   */
  virtualBatchSize?: number | null;
}

/** Keras / TF.js BatchNormalization options, in Keras' names and with Keras' defaults. */
export interface KerasBatchNormOptions {
  /** Weight of the OLD value in the moving averages: moving = momentum moving + (1 - momentum) batch. Default 0.99. */
  momentum?: number;
  /** Default 1e-3. */
  epsilon?: number;
  /** Learnable beta (our bias). Default true. */
  center?: boolean;
  /** Learnable gamma (our weight). Default true. */
  scale?: boolean;
  /** Keras 2's virtual_batch_size (Ghost BN). Default null. */
  virtualBatchSize?: number | null;
}

/**
 * The BatchNorm modules' shared body (PyTorch's _BatchNorm). Per channel over m = N (or N*L, N*H*W) values:
 *
 *   training:  y = gamma * (x - mu_B) / sqrt(var_B + eps) + beta, var_B = mean((x - mu_B)^2) (biased);
 *              running_mean = (1 - momentum) running_mean + momentum mu_B,
 *              running_var  = (1 - momentum) running_var  + momentum var_B * m/(m-1) (unbiased), num_batches_tracked += 1;
 *   eval:      y = gamma * (x - running_mean) / sqrt(running_var + eps) + beta
 *              (batch statistics instead when trackRunningStats is false);
 *   frozen:    eval behaviour whatever train()/eval() says, and weight/bias without gradient.
 *
 * State dict keys as PyTorch: weight, bias, running_mean, running_var, num_batches_tracked.
 */
export abstract class BatchNormBase extends Module {
  readonly numFeatures: number;
  eps: number;
  momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;
  virtualBatchSize: number | null;
  /** gamma, shape [C] (null without affine). */
  weight: Tensor | null;
  /** beta, shape [C] (null without affine). */
  bias: Tensor | null;
  runningMean: Tensor | null;
  runningVar: Tensor | null;
  /** Training forward passes so far (a 0-d tensor, as PyTorch's long buffer). */
  numBatchesTracked: Tensor | null;
  /**
   * The activation applied in the same op (BN + ReLU / Sigmoid), set by fuseBatchNormAct when it absorbs the
   * activation layer after this one; null (the default) is plain BatchNorm.
   */
  act: BnAct = null;
  /** Running variance from the unbiased batch variance (PyTorch) or the biased one (Keras). */
  protected unbiasedRunningVar = true;
  private frozen = false;

  constructor(numFeatures: number, opts: BatchNormModuleOptions = {}) {
    super();
    const name = new.target.name;
    check(Number.isInteger(numFeatures) && numFeatures > 0, `${name}: numFeatures must be a positive integer, got ${String(numFeatures)}`);
    this.numFeatures = numFeatures;
    this.eps = opts.eps ?? 1e-5;
    check(typeof this.eps === 'number' && this.eps >= 0 && Number.isFinite(this.eps), `${name}: eps must be a finite number >= 0, got ` +
      `${String(opts.eps)}`);
    this.momentum = opts.momentum === undefined ? 0.1 : opts.momentum;
    check(this.momentum === null || (typeof this.momentum === 'number' && this.momentum >= 0 && this.momentum <= 1), `${name}: momentum must ` +
      `be in [0, 1] or null, got ${String(opts.momentum)}`);
    this.affine = opts.affine ?? true;
    this.trackRunningStats = opts.trackRunningStats ?? true;
    this.virtualBatchSize = opts.virtualBatchSize ?? null;
    check(this.virtualBatchSize === null || (Number.isInteger(this.virtualBatchSize) && this.virtualBatchSize > 0), `${name}: virtualBatchSize ` +
      `must be a positive integer or null, got ${String(opts.virtualBatchSize)}`);
    const C = numFeatures;
    this.weight = this.registerParameter('weight', this.affine ? new Tensor(new Float32Array(C).fill(1), [C]) : null);
    this.bias = this.registerParameter('bias', this.affine ? new Tensor(new Float32Array(C), [C]) : null);
    const track = this.trackRunningStats;
    this.runningMean = this.registerBuffer('running_mean', track ? new Tensor(new Float32Array(C), [C]) : null);
    this.runningVar = this.registerBuffer('running_var', track ? new Tensor(new Float32Array(C).fill(1), [C]) : null);
    this.numBatchesTracked = this.registerBuffer('num_batches_tracked', track ? new Tensor(new Float32Array(1), []) : null);
  }

  /** Accepted input ranks and their layout for messages, e.g. '(N, 4, H, W)'. */
  protected abstract expectedInput(): { ranks: number[]; layout: string };

  /** Batch Renorm limits for the training step `step` (0-based); null for plain BN. */
  protected renormLimits(_step: number): RenormLimits | null {
    return null;
  }

  /** Normalizes x (see the class doc for the three behaviours), then applies `act` if fuseBatchNormAct set one. */
  forward(x: Tensor): Tensor {
    return this.forwardAct(x, this.act);
  }

  /**
   * act(BN(x)) as one op: the same values and gradients as BatchNorm then the ReLU / Sigmoid module, without the
   * activation's separate pass and tensors (act null: BN alone).
   */
  forwardAct(x: Tensor, act: BnAct): Tensor {
    if (!(x instanceof Tensor)) throw new ArgumentError(`${this.constructor.name}: input must be a Tensor`);
    const { ranks, layout } = this.expectedInput();
    if (!ranks.includes(x.ndim) || x.shape[1] !== this.numFeatures) {
      throw new ShapeError(`${this.constructor.name}: expected input of shape ${layout}, got ${fmtShape(x.shape)}`);
    }
    const training = this.training && !this.frozen;
    const update = training && this.trackRunningStats;
    const nbt = this.numBatchesTracked;
    const step = nbt ? nbt.data[0] : 0;
    const vbs = training ? this.virtualBatchSize : null;
    const groups = vbs === null || x.shape[0] === 0 ? 1 : Math.ceil(x.shape[0] / Math.min(vbs, x.shape[0]));
    const y = bnCore(x, this.weight, this.bias, {
      op: this.constructor.name,
      batchStats: training || this.runningMean === null,
      runningMean: this.runningMean,
      runningVar: this.runningVar,
      update,
      momentum: this.momentum,
      // momentum null: the cumulative average over all (virtual) batches seen, 1/numBatchesTracked without Ghost BN.
      priorUpdates: step * groups,
      eps: this.eps,
      virtualBatchSize: vbs,
      unbiasedRunningVar: this.unbiasedRunningVar,
      renorm: training ? this.renormLimits(step) : null,
      act,
    });
    // Counted after the op succeeded, so a rejected batch (one value per channel) leaves the count alone.
    if (update && nbt) nbt.data[0] += 1;
    return y;
  }

  /**
   * Frozen BN (Keras trainable=False): inference behaviour from now on, whatever train()/eval() says: running
   * statistics, no updates, weight/bias without gradient (requiresGrad false, grads cleared). For fine-tuning.
   */
  freeze(): this {
    this.frozen = true;
    for (const p of [this.weight, this.bias]) {
      if (p) {
        p.requiresGrad = false;
        p.grad = null;
      }
    }
    return this;
  }

  /** Undoes freeze(): train()/eval() decide again and weight/bias require grad. */
  unfreeze(): this {
    this.frozen = false;
    for (const p of [this.weight, this.bias]) if (p) p.requiresGrad = true;
    return this;
  }

  /** True after freeze(). */
  get isFrozen(): boolean {
    return this.frozen;
  }

  /** running_mean = 0, running_var = 1, num_batches_tracked = 0. */
  resetRunningStats(): void {
    this.runningMean?.data.fill(0);
    this.runningVar?.data.fill(1);
    this.numBatchesTracked?.data.fill(0);
  }

  /** Running statistics reset, weight = 1, bias = 0. */
  resetParameters(): void {
    this.resetRunningStats();
    this.weight?.data.fill(1);
    this.bias?.data.fill(0);
  }

  /**
   * The module a Keras / TF.js user expects: `BatchNorm2d.fromKeras(64)` normalizes like
   * `keras.layers.BatchNormalization()` on channels. Conventions side by side:
   *
   *   |                 | PyTorch / bnlab default           | Keras / TF.js                                  |
   *   | momentum        | 0.1 = weight of the new batch     | 0.99 = weight of the old value (= bnlab 0.01)  |
   *   | eps             | 1e-5                              | epsilon 1e-3                                   |
   *   | running var     | var_B * m/(m-1) (unbiased)        | var_B (biased)                                 |
   *   | gamma / beta    | affine (both or none)             | scale / center (each on its own)               |
   *
   * Normalization itself is the same in both (biased batch variance in training). Keras' axis is the channel
   * axis: Keras images are NHWC, bnlab's NCHW, so transpose inputs, not BN weights. State dict keys stay PyTorch's.
   */
  static fromKeras<T extends BatchNormBase>(
    this: new (numFeatures: number, opts?: BatchNormModuleOptions) => T,
    numFeatures: number,
    opts: KerasBatchNormOptions = {},
  ): T {
    const km = opts.momentum ?? 0.99;
    check(typeof km === 'number' && km >= 0 && km <= 1, `fromKeras: momentum must be in [0, 1], got ${String(opts.momentum)}`);
    const m = new this(numFeatures, { momentum: 1 - km, eps: opts.epsilon ?? 1e-3, affine: true, virtualBatchSize: opts.virtualBatchSize ?? null });
    m.useKerasConvention(opts.center ?? true, opts.scale ?? true);
    return m;
  }

  /** Biased running variance, and gamma / beta dropped separately (Keras scale / center). @internal */
  useKerasConvention(center: boolean, scale: boolean): void {
    this.unbiasedRunningVar = false;
    if (!scale) this.weight = this.registerParameter('weight', null);
    if (!center) this.bias = this.registerParameter('bias', null);
  }

  /**
   * Loads weights in Keras' get_weights() order: [gamma (if scale), beta (if center), moving_mean, moving_variance].
   */
  setKerasWeights(weights: ArrayLike<number>[]): void {
    const targets = [this.weight, this.bias, this.runningMean, this.runningVar].filter((t): t is Tensor => t !== null);
    if (!Array.isArray(weights) || weights.length !== targets.length) {
      throw new ArgumentError(`${this.constructor.name}.setKerasWeights: expected ${targets.length} arrays, got ` +
        `${Array.isArray(weights) ? weights.length : String(weights)}`);
    }
    weights.forEach((w, i) => {
      if (w.length !== this.numFeatures) {
        throw new ShapeError(`${this.constructor.name}.setKerasWeights: array ${i} has ${w.length} values, expected ${this.numFeatures}`);
      }
    });
    weights.forEach((w, i) => targets[i].data.set(Array.from(w)));
  }
}

/**
 * BatchNorm over (N, C) or (N, C, L) inputs, statistics per channel over N (or N*L) values. See BatchNormBase.
 * Defaults: eps 1e-5, momentum 0.1, affine true, trackRunningStats true, virtualBatchSize null.
 */
export class BatchNorm1d extends BatchNormBase {
  protected expectedInput() {
    return { ranks: [2, 3], layout: `(N, ${this.numFeatures}) or (N, ${this.numFeatures}, L)` };
  }
}

/**
 * BatchNorm over (N, C, H, W) inputs, statistics per channel over N*H*W values. See BatchNormBase.
 * Defaults: eps 1e-5, momentum 0.1, affine true, trackRunningStats true, virtualBatchSize null.
 */
export class BatchNorm2d extends BatchNormBase {
  protected expectedInput() {
    return { ranks: [4], layout: `(N, ${this.numFeatures}, H, W)` };
  }
}

/** Freezes every BatchNorm module in a model (see BatchNormBase.freeze); returns the model. */
export function freezeBatchNorm<M extends Module>(model: M): M {
  for (const [, m] of model.namedModules()) if (m instanceof BatchNormBase) m.freeze();
  return model;
}
