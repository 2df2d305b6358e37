// Batch Renormalization modules (Ioffe 2017): BatchNorm with clipped corrections r, d, and the paper's rMax/dMax schedule.
import type { RenormLimits } from '../../ops/norm/batchnorm.js';
import { check } from '../../tensor/errors.js';
import { BatchNorm1d, BatchNorm2d, type BatchNormBase, type BatchNormModuleOptions } from './batchnorm.js';

/** A clipping limit: a constant, or a function of the training step (numBatchesTracked before the step, from 0). */
export type RenormLimit = number | ((step: number) => number);

/** Options of BatchRenorm1d / BatchRenorm2d: BatchNorm's, plus the limits (defaults: the paper's schedule). */
export interface BatchRenormOptions extends Omit<BatchNormModuleOptions, 'trackRunningStats'> {
  /** r is clipped to [1/rMax, rMax]. Default renormRamp(1, 3, 5000, 40000). */
  rMax?: RenormLimit;
  /** d is clipped to [-dMax, dMax]. Default renormRamp(0, 5, 5000, 25000). */
  dMax?: RenormLimit;
}

/**
 * A schedule for rMax or dMax: `from` until step `start`, then linear to `to` at step `end`, then constant.
 * Ioffe 2017 trains as plain BN (rMax 1, dMax 0) for 5k steps, then relaxes to rMax 3 at 40k and dMax 5 at 25k.
 */
export function renormRamp(from: number, to: number, start: number, end: number): (step: number) => number {
  check(end >= start, `renormRamp: end step ${end} is before start step ${start}`);
  return (step) => (step <= start ? from : step >= end ? to : from + ((to - from) * (step - start)) / (end - start));
}

function limitsAt(rMax: RenormLimit, dMax: RenormLimit, step: number): RenormLimits {
  return { rMax: typeof rMax === 'number' ? rMax : rMax(step), dMax: typeof dMax === 'number' ? dMax : dMax(step) };
}

/** The limits given in the options, else the paper's schedule (see renormRamp). */
function limitsOrSchedule(opts: BatchRenormOptions): { rMax: RenormLimit; dMax: RenormLimit } {
  return { rMax: opts.rMax ?? renormRamp(1, 3, 5000, 40000), dMax: opts.dMax ?? renormRamp(0, 5, 5000, 25000) };
}

/** Batch Renorm's own option checks: running statistics kept, rMax >= 1 and dMax >= 0 (or schedules). */
function checkRenorm(name: string, opts: BatchRenormOptions): void {
  const track = (opts as { trackRunningStats?: boolean }).trackRunningStats;
  check(!('trackRunningStats' in opts) || track !== false, `${name}: Batch Renorm needs running statistics (trackRunningStats must stay true)`);
  for (const [k, v, min] of [['rMax', opts.rMax, 1], ['dMax', opts.dMax, 0]] as const) {
    const ok = v === undefined || typeof v === 'function' || (typeof v === 'number' && v >= min);
    check(ok, `${name}: ${k} must be >= ${min} or a function of the step, got ${String(v)}`);
  }
}

/** What Batch Renorm adds to a BatchNorm module: the limits and what they give for the next step. */
export interface BatchRenormMembers {
  /** r is clipped to [1/rMax, rMax]: a constant or a schedule (assignable, e.g. to renormRamp(...)). */
  rMax: RenormLimit;
  /** d is clipped to [-dMax, dMax]: a constant or a schedule. */
  dMax: RenormLimit;
  /** The limits the next training step will use. */
  currentLimits(): RenormLimits;
}

/**
 * Batch Renorm on top of BatchNorm1d or BatchNorm2d, written once (the input layout is all that differs): the
 * limits, checked and defaulted, and each training step's limits handed to the BatchNorm core through the
 * renormLimits hook. The return type is spelled out so that declarations name no anonymous class.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- a mixin's base and constructor take `...args: any[]` (TypeScript's rule) */
function withRenorm<B extends abstract new (...args: any[]) => BatchNormBase>(Base: B) {
  abstract class BatchRenorm extends Base implements BatchRenormMembers {
    rMax: RenormLimit;
    dMax: RenormLimit;

    constructor(...args: any[]) {
      const [numFeatures, opts = {}] = args as [number, BatchRenormOptions?];
      checkRenorm(new.target.name, opts);
      super(numFeatures, opts);
      const limits = limitsOrSchedule(opts);
      this.rMax = limits.rMax;
      this.dMax = limits.dMax;
    }

    currentLimits(): RenormLimits {
      return this.renormLimits(this.numBatchesTracked!.data[0]);
    }

    protected override renormLimits(step: number): RenormLimits {
      return limitsAt(this.rMax, this.dMax, step);
    }
  }
  // BatchRenorm1d/2d below declare the typed constructor (numFeatures, BatchRenormOptions).
  return BatchRenorm as unknown as B & (abstract new (...args: any[]) => BatchRenormMembers);
}
/* eslint-enable @typescript-eslint/no-explicit-any */

/**
 * Batch Renormalization over (N, C) or (N, C, L). In training, per channel:
 *   x_hat = (x - mu_B) / sigma_B * r + d,  r = clip(sigma_B / sigma, 1/rMax, rMax),  d = clip((mu_B - mu) / sigma, -dMax, dMax),
 *   sigma_B = sqrt(var_B + eps), mu = running_mean, sigma = sqrt(running_var + eps) (before this step's update),
 *   y = gamma x_hat + beta; no gradient flows through r and d. Eval, running updates and state dict as BatchNorm1d.
 * rMax = 1, dMax = 0 is exactly BatchNorm1d. Defaults: BatchNorm's, rMax/dMax the paper's schedule (see renormRamp).
 */
export class BatchRenorm1d extends withRenorm(BatchNorm1d) {
  constructor(numFeatures: number, opts: BatchRenormOptions = {}) {
    super(numFeatures, opts);
  }
}

/** Batch Renormalization over (N, C, H, W); see BatchRenorm1d. */
export class BatchRenorm2d extends withRenorm(BatchNorm2d) {
  constructor(numFeatures: number, opts: BatchRenormOptions = {}) {
    super(numFeatures, opts);
  }
}
