// BatchNorm as an op in three parts, as PyTorch splits it: option checks, a forward that returns what backward keeps, a backward.
import { record } from '../../autograd/record.js';
import { kernels } from '../../kernels/select.js';
import type { BnAct } from '../../kernels/kernels.js';
import { allocUninit } from '../../tensor/alloc.js';
import { Tensor } from '../../tensor/tensor.js';
import { ArgumentError, ShapeError, fmtShape } from '../../tensor/errors.js';
import { expectTensor } from '../util.js';

/** Options of the functional forms; defaults are F.batch_norm's. */
export interface BatchNormOptions {
  /** Normalize with batch statistics and update the running ones if given (default false, as F.batch_norm). */
  training?: boolean;
  /** Weight of the new batch in the running update r = (1 - momentum) r + momentum x_B (default 0.1). */
  momentum?: number;
  /** Added to the variance before the square root (default 1e-5). */
  eps?: number;
  /** Ghost BN: in training, statistics per sub-batch of this many samples (default: the whole batch). */
  virtualBatchSize?: number | null;
}

/** Batch Renorm clipping limits: r in [1/rMax, rMax], d in [-dMax, dMax]. rMax = 1, dMax = 0 is plain BN. */
export interface RenormLimits {
  rMax: number;
  dMax: number;
}

/** Options of the core shared by the functional forms and the modules. @internal */
export interface BnCoreOptions {
  /** Name used in error messages ('batchNorm', 'BatchNorm2d', ...). */
  op: string;
  /** Normalize with batch statistics (training, or eval without running statistics). */
  batchStats: boolean;
  runningMean: Tensor | null;
  runningVar: Tensor | null;
  /** Update the running statistics in place from the batch statistics. */
  update: boolean;
  /** Update factor; null: cumulative average, factor 1/(priorUpdates + j + 1) for the j-th update of this call. */
  momentum: number | null;
  /** Updates made before this call (used when momentum is null). */
  priorUpdates?: number;
  eps: number;
  /** Samples per Ghost BN sub-batch when using batch statistics (null: the whole batch). */
  virtualBatchSize?: number | null;
  /** Running variance from the unbiased batch variance var*m/(m-1) (PyTorch, default) or the biased one (Keras). */
  unbiasedRunningVar?: boolean;
  /** Batch Renorm limits (used with batch statistics; needs running statistics). */
  renorm?: RenormLimits | null;
  /**
   * Activation applied to the output in the same op (the pass fuseBatchNormAct sets it): the same values
   * and gradients as the separate op, without its pass over memory and its tensors. Default null.
   */
  act?: BnAct;
}

function checkChannelVector(op: string, name: string, t: Tensor | null, C: number): void {
  if (t === null) return;
  expectTensor(op, name, t);
  if (t.ndim !== 1 || t.shape[0] !== C) {
    throw new ShapeError(`${op}: ${name} must have shape [${C}] (one value per channel), got ${fmtShape(t.shape)}`);
  }
}

function clip(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/** What the checks settled: x viewed as (N, C, S) in G ranges of vbs samples, and the options in effect. */
interface BnPlan {
  N: number;
  C: number;
  S: number;
  /** Samples per range with its own statistics (Ghost BN sub-batch; N for the whole batch) and the number of ranges. */
  vbs: number;
  G: number;
  renorm: RenormLimits | null;
  /** Batch statistics are written into the running ones. */
  update: boolean;
  act: BnAct;
}

/**
 * Part 1 of 3, the option checks (PyTorch's batch_norm argument checks): shapes, eps, momentum, running statistics
 * where they are needed, Renorm limits, the activation, Ghost BN's sub-batch size and the one-value-per-channel rule.
 */
function checkBatchNorm(x: Tensor, weight: Tensor | null, bias: Tensor | null, o: BnCoreOptions): BnPlan {
  const op = o.op;
  expectTensor(op, 'x', x);
  if (x.ndim < 2) throw new ShapeError(`${op}: expected input of shape (N, C, ...), got ${fmtShape(x.shape)}`);
  const [N, C] = x.shape;
  let S = 1;
  for (let i = 2; i < x.ndim; i++) S *= x.shape[i];
  checkChannelVector(op, 'weight', weight, C);
  checkChannelVector(op, 'bias', bias, C);
  checkChannelVector(op, 'running_mean', o.runningMean, C);
  checkChannelVector(op, 'running_var', o.runningVar, C);
  const { eps, momentum, runningMean: rm, runningVar: rv } = o;
  if (typeof eps !== 'number' || !(eps >= 0) || !Number.isFinite(eps)) {
    throw new ArgumentError(`${op}: eps must be a finite number >= 0, got ${String(eps)}`);
  }
  if (momentum !== null && (typeof momentum !== 'number' || !(momentum >= 0 && momentum <= 1))) {
    throw new ArgumentError(`${op}: momentum must be a number in [0, 1] or null, got ${String(momentum)}`);
  }
  if (!o.batchStats && (rm === null || rv === null)) {
    throw new ArgumentError(`${op}: running_mean and running_var are needed to normalize with running statistics (training is false)`);
  }
  const renorm = o.batchStats ? (o.renorm ?? null) : null;
  if (renorm !== null) {
    if (rm === null || rv === null) throw new ArgumentError(`${op}: Batch Renorm needs running statistics`);
    if (!(renorm.rMax >= 1)) throw new ArgumentError(`${op}: rMax must be >= 1, got ${String(renorm.rMax)}`);
    if (!(renorm.dMax >= 0)) throw new ArgumentError(`${op}: dMax must be >= 0, got ${String(renorm.dMax)}`);
  }
  const act = o.act ?? null;
  if (act !== null && act !== 'relu' && act !== 'sigmoid') {
    throw new ArgumentError(`${op}: act must be 'relu', 'sigmoid' or null, got ${String(act)}`);
  }
  const update = o.batchStats && o.update && rm !== null && rv !== null;
  if (x.size === 0) return { N, C, S, vbs: N, G: 0, renorm, update, act };
  let vbs = N;
  if (o.batchStats && o.virtualBatchSize != null) {
    vbs = o.virtualBatchSize;
    if (!Number.isInteger(vbs) || vbs < 1) throw new ArgumentError(`${op}: virtualBatchSize must be a positive integer, got ${String(vbs)}`);
    vbs = Math.min(vbs, N);
  }
  const G = Math.ceil(N / vbs);
  if (o.batchStats && N * S === 1) {
    throw new ShapeError(`Expected more than 1 value per channel when training, got input of shape ${fmtShape(x.shape)}`);
  }
  if (o.batchStats && G > 1 && (N - (G - 1) * vbs) * S === 1) {
    throw new ShapeError(
      `${op}: Expected more than 1 value per channel when training, got a virtual batch of 1 sample (virtualBatchSize ${vbs}, input of shape ` +
        `${fmtShape(x.shape)}); ` +
        'use a batch size that is a multiple of virtualBatchSize',
    );
  }
  return { N, C, S, vbs, G, renorm, update, act };
}

/** One call's arguments and checked plan, shared by its forward and its backward. */
interface BnCall {
  x: Tensor;
  weight: Tensor | null;
  bias: Tensor | null;
  o: BnCoreOptions;
  plan: BnPlan;
}

/**
 * What backward keeps, per (range g, channel c) at g * C + c: the mean and 1/sigma that made u, and Renorm's r and
 * d (null without Renorm). One Float64Array holds them all: creating one costs ~1 us, and seven of them were half
 * of the op's own time at C = 100.
 */
interface BnSaved {
  means: Float64Array;
  invstds: Float64Array;
  rs: Float64Array | null;
  ds: Float64Array | null;
}

function allocSaved(GC: number, renorm: boolean): BnSaved {
  const all = new Float64Array((renorm ? 4 : 2) * GC);
  const part = (i: number) => all.subarray(i * GC, (i + 1) * GC);
  return { means: part(0), invstds: part(1), rs: renorm ? part(2) : null, ds: renorm ? part(3) : null };
}

/**
 * Part 2 of 3, the forward: per range g, the batch statistics (or the running ones), Renorm's r and d, the running
 * update, then y = act(x * scale + shift) with scale = gamma r invstd, shift = beta + gamma d - mean scale.
 * Returns y and what backward keeps.
 */
function forwardBatchNorm(t: BnCall): { y: Float32Array; saved: BnSaved } {
  const { x, weight, bias, o, plan: p } = t;
  const { N, C, S, vbs, G } = p;
  const y = allocUninit(x.size);
  const saved = allocSaved(G * C, p.renorm !== null);
  const tmp = scratch(3 * C);
  const variance = tmp.subarray(0, C);
  const coef = { scale: tmp.subarray(C, 2 * C), shift: tmp.subarray(2 * C, 3 * C) };
  const bn = kernels().batchnorm;
  for (let g = 0; g < G; g++) {
    const span = { C, S, n0: g * vbs, n1: Math.min(N, (g + 1) * vbs) };
    const mean = saved.means.subarray(g * C, (g + 1) * C);
    if (o.batchStats) bn.stats(x.data, span, mean, variance);
    const m = (span.n1 - span.n0) * S;
    for (let c = 0; c < C; c++) channelForward(o, p, saved, g, c, m, variance[c]);
    for (let c = 0; c < C; c++) {
      const gamma = weight ? weight.data[c] : 1;
      const beta = bias ? bias.data[c] : 0;
      const j = g * C + c;
      const r = saved.rs ? saved.rs[j] : 1;
      const d = saved.ds ? saved.ds[j] : 0;
      // y = gamma (r (x - mu) is + d) + beta = x * scale + shift.
      coef.scale[c] = gamma * r * saved.invstds[j];
      coef.shift[c] = beta + gamma * d - mean[c] * coef.scale[c];
    }
    bn.affine(x.data, y, span, coef, p.act);
  }
  return { y, saved };
}

/**
 * One channel c of range g (m values, batch variance v): invstd, Renorm's r and d from the running statistics
 * before this range's update (Ioffe 2017, Algorithm 1), then the running update with factor f = momentum (or
 * 1/(updates so far + 1)): running_mean = (1 - f) running_mean + f mu_B, running_var = (1 - f) running_var +
 * f v m/(m-1) (v when the running variance is biased). With running statistics, their mean and invstd.
 */
function channelForward(o: BnCoreOptions, p: BnPlan, s: BnSaved, g: number, c: number, m: number, v: number): void {
  const j = g * p.C + c;
  const rm = o.runningMean;
  const rv = o.runningVar;
  if (!o.batchStats) {
    s.means[j] = rm!.data[c];
    s.invstds[j] = 1 / Math.sqrt(rv!.data[c] + o.eps);
    return;
  }
  const mu = s.means[j];
  s.invstds[j] = 1 / Math.sqrt(v + o.eps);
  if (p.renorm && rm && rv) {
    const sigma = Math.sqrt(rv.data[c] + o.eps);
    s.rs![j] = clip(Math.sqrt(v + o.eps) / sigma, 1 / p.renorm.rMax, p.renorm.rMax);
    s.ds![j] = clip((mu - rm.data[c]) / sigma, -p.renorm.dMax, p.renorm.dMax);
  }
  if (p.update) {
    const f = o.momentum ?? 1 / ((o.priorUpdates ?? 0) + g + 1);
    rm!.data[c] = (1 - f) * rm!.data[c] + f * mu;
    rv!.data[c] = (1 - f) * rv!.data[c] + f * ((o.unbiasedRunningVar ?? true) ? (v * m) / (m - 1) : v);
  }
}

/**
 * Part 3 of 3, the backward, per channel with g = gamma r: dbeta = sum(dy), dgamma = sum(dy x_hat) = r sum(dy u) +
 * d sum(dy), dx = g invstd / m (m dy - sum(dy) - u sum(dy u)) with batch statistics, g invstd dy with running ones.
 * The kernel family makes the passes (dy from dz through the activation, the sums, dx = a dy + b x + k); this
 * function owns the per-channel algebra that turns the sums into a, b, k.
 */
function backwardBatchNorm(t: BnCall, { y, saved: s }: { y: Float32Array; saved: BnSaved }, dz: Float32Array): void {
  const { x, weight, bias, plan: p } = t;
  const batchStats = t.o.batchStats;
  const { N, C, S, vbs } = p;
  const gd = weight?.data ?? null;
  const gw = weight !== null && weight.requiresGrad ? weight.gradBuffer() : null;
  const gb = bias !== null && bias.requiresGrad ? bias.gradBuffer() : null;
  // A fresh x gradient is written, not accumulated, into a buffer that is never zeroed: every element is
  // assigned by the kernels (each sub-batch writes its own samples), so zero-filling it first was pure cost.
  const fresh = x.requiresGrad && x.grad === null;
  const gx = x.requiresGrad ? (x.grad ?? x.freshGrad()) : null;
  const tmp = scratch(3 * C);
  const coef = { a: tmp.subarray(0, C), b: tmp.subarray(C, 2 * C), k: tmp.subarray(2 * C, 3 * C) };
  // With an activation, dz is the gradient of its output; the family forms dy (before it) as the separate op would.
  kernels().batchnorm.backward({
    x: x.data, y, dz, act: p.act, C, S, N, vbs, means: s.means, dx: gx, accumulate: !fresh,
    // Eval mode needs no reductions for dx alone (dx = gamma * invstd * dy).
    sums: batchStats || gw !== null || gb !== null,
    coefficients(g, sumDy, sumDyXc) {
      const m = (Math.min(N, (g + 1) * vbs) - g * vbs) * S;
      for (let c = 0; c < C; c++) {
        const j = g * C + c;
        const is = s.invstds[j];
        const r = s.rs ? s.rs[j] : 1;
        const d = s.ds ? s.ds[j] : 0;
        const sdy = sumDy[c];
        const sdyu = sumDyXc[c] * is;
        if (gb) gb[c] += sdy;
        if (gw) gw[c] += r * sdyu + d * sdy;
        const a = (gd ? gd[c] : 1) * r * is;
        const b = batchStats ? (-a * is * sdyu) / m : 0;
        coef.a[c] = a;
        coef.b[c] = b;
        coef.k[c] = batchStats ? (-a * sdy) / m - b * s.means[j] : 0;
      }
      return coef;
    },
  });
}

/**
 * The BatchNorm core: checkBatchNorm, forwardBatchNorm, and backwardBatchNorm recorded as its gradient rule.
 * x is (N, C, ...) viewed as (N, C, S); per channel and (sub-)batch of m = n*S values:
 *   batch statistics: mu_B = mean(x), var_B = mean((x - mu_B)^2) (biased), u = (x - mu_B) / sqrt(var_B + eps);
 *   Batch Renorm: x_hat = u * r + d, r = clip(sigma_B / sigma, 1/rMax, rMax), d = clip((mu_B - mu) / sigma, -dMax, dMax),
 *     sigma_B = sqrt(var_B + eps), sigma = sqrt(running_var + eps), r and d constants for the gradient; else x_hat = u;
 *   running statistics: x_hat = (x - running_mean) / sqrt(running_var + eps);
 *   y = gamma * x_hat + beta (gamma = 1, beta = 0 when weight / bias are null), then act(y) if o.act is set.
 * Running update (update, batch statistics): running_mean = (1 - f) running_mean + f mu_B,
 * running_var = (1 - f) running_var + f var_B m/(m-1) (or var_B with unbiasedRunningVar false).
 * src/ops/norm/reference.ts (batchNormPrimitive) computes the same from primitive ops: read it first.
 * @internal
 */
export function bnCore(x: Tensor, weight: Tensor | null, bias: Tensor | null, o: BnCoreOptions): Tensor {
  const plan = checkBatchNorm(x, weight, bias, o);
  // An empty batch (N = 0 or an empty spatial size) has no statistics: empty output, running statistics untouched.
  if (x.size === 0) return record(new Tensor(new Float32Array(0), x.shape), o.op, [x, weight, bias], () => {});
  const call: BnCall = { x, weight, bias, o, plan };
  const out = forwardBatchNorm(call);
  const name = plan.act === null ? o.op : `${o.op}+${plan.act}`;
  return record(new Tensor(out.y, x.shape), name, [x, weight, bias], (dz) => backwardBatchNorm(call, out, dz));
}

let scratchBuf = new Float64Array(0);

/** n float64 of scratch for one bnCore call or backward (never kept past it; nothing in between calls bnCore). */
function scratch(n: number): Float64Array {
  if (scratchBuf.length < n) scratchBuf = new Float64Array(Math.max(n, 2 * scratchBuf.length));
  return scratchBuf;
}

/**
 * Functional BatchNorm, as torch.nn.functional.batch_norm. x is (N, C, ...); per channel over m = N * (other dims):
 *   training: y = gamma (x - mu_B) / sqrt(var_B + eps) + beta, var_B biased; if runningMean/runningVar are given they
 *     are updated in place: r_mean = (1 - momentum) r_mean + momentum mu_B, r_var = (1 - momentum) r_var + momentum var_B m/(m-1);
 *   not training: y = gamma (x - r_mean) / sqrt(r_var + eps) + beta.
 * weight (gamma) and bias (beta) are [C] or null. Defaults: training false, momentum 0.1, eps 1e-5.
 * Backward (training): dbeta = sum(dy), dgamma = sum(dy x_hat), dx = gamma invstd / m (m dy - sum(dy) - x_hat sum(dy x_hat)).
 */
export function batchNorm(
  x: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  weight: Tensor | null = null,
  bias: Tensor | null = null,
  opts: BatchNormOptions = {},
): Tensor {
  return bnCore(x, weight, bias, { op: 'batchNorm', ...functionalCore(runningMean, runningVar, opts) });
}

/**
 * bnCore options of the functional forms, with their defaults (training false, momentum 0.1, eps 1e-5): batch
 * statistics and running updates in training, the running statistics otherwise.
 */
function functionalCore(runningMean: Tensor | null, runningVar: Tensor | null, opts: BatchNormOptions): Omit<BnCoreOptions, 'op'> {
  const training = opts.training ?? false;
  return {
    batchStats: training,
    runningMean,
    runningVar,
    update: training,
    momentum: opts.momentum ?? 0.1,
    eps: opts.eps ?? 1e-5,
    virtualBatchSize: opts.virtualBatchSize ?? null,
  };
}

/**
 * Functional Batch Renormalization (Ioffe 2017). In training, per channel:
 *   x_hat = (x - mu_B) / sigma_B * r + d, r = clip(sigma_B / sigma, 1/rMax, rMax), d = clip((mu_B - mu) / sigma, -dMax, dMax),
 * with sigma_B = sqrt(var_B + eps), mu = runningMean, sigma = sqrt(runningVar + eps), r and d without gradient;
 * then y = gamma x_hat + beta and the running statistics are updated as in batchNorm. Not training: as batchNorm.
 * Defaults: training false, momentum 0.1, eps 1e-5, rMax 1, dMax 0 (which is plain BN).
 */
export function batchRenorm(
  x: Tensor,
  runningMean: Tensor,
  runningVar: Tensor,
  weight: Tensor | null = null,
  bias: Tensor | null = null,
  opts: BatchNormOptions & Partial<RenormLimits> = {},
): Tensor {
  return bnCore(x, weight, bias, {
    op: 'batchRenorm',
    ...functionalCore(runningMean, runningVar, opts),
    renorm: { rMax: opts.rMax ?? 1, dMax: opts.dMax ?? 0 },
  });
}
