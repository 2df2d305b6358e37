// Batch Renormalization modules (Ioffe 2017): BatchNorm with clipped corrections r, d, and the paper's rMax/dMax schedule.
import type { RenormLimits } from '../../ops/norm/batchnorm.js';
import { check } from '../../tensor/errors.js';
import { BatchNorm1d, BatchNorm2d, type BatchNormModuleOptions } from './batchnorm.js';

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

function checkRenorm(name: string, opts: BatchRenormOptions): void {
  check(!('trackRunningStats' in opts) || (opts as { trackRunningStats?: boolean }).trackRunningStats !== false, `${name}: Batch Renorm needs running statistics (trackRunningStats must stay true)`);
  for (const [k, v] of [['rMax', opts.rMax], ['dMax', opts.dMax]] as const) {
    check(v === undefined || typeof v === 'function' || (typeof v === 'number' && v >= (k === 'rMax' ? 1 : 0)), `${name}: ${k} must be ${k === 'rMax' ? '>= 1' : '>= 0'} or a function of the step, got ${String(v)}`);
  }
}

/**
 * Batch Renormalization over (N, C) or (N, C, L). In training, per channel:
 *   x_hat = (x - mu_B) / sigma_B * r + d,  r = clip(sigma_B / sigma, 1/rMax, rMax),  d = clip((mu_B - mu) / sigma, -dMax, dMax),
 *   sigma_B = sqrt(var_B + eps), mu = running_mean, sigma = sqrt(running_var + eps) (before this step's update),
 *   y = gamma x_hat + beta; no gradient flows through r and d. Eval, running updates and state dict as BatchNorm1d.
 * rMax = 1, dMax = 0 is exactly BatchNorm1d. Defaults: BatchNorm's, rMax/dMax the paper's schedule (see renormRamp).
 */
export class BatchRenorm1d extends BatchNorm1d {
  rMax: RenormLimit;
  dMax: RenormLimit;

  constructor(numFeatures: number, opts: BatchRenormOptions = {}) {
    checkRenorm('BatchRenorm1d', opts);
    super(numFeatures, opts);
    const limits = limitsOrSchedule(opts);
    this.rMax = limits.rMax;
    this.dMax = limits.dMax;
  }

  /** The limits the next training step will use. */
  currentLimits(): RenormLimits {
    return this.renormLimits(this.numBatchesTracked!.data[0]);
  }

  protected override renormLimits(step: number): RenormLimits {
    return limitsAt(this.rMax, this.dMax, step);
  }
}

/** Batch Renormalization over (N, C, H, W); see BatchRenorm1d. */
export class BatchRenorm2d extends BatchNorm2d {
  rMax: RenormLimit;
  dMax: RenormLimit;

  constructor(numFeatures: number, opts: BatchRenormOptions = {}) {
    checkRenorm('BatchRenorm2d', opts);
    super(numFeatures, opts);
    const limits = limitsOrSchedule(opts);
    this.rMax = limits.rMax;
    this.dMax = limits.dMax;
  }

  /** The limits the next training step will use. */
  currentLimits(): RenormLimits {
    return this.renormLimits(this.numBatchesTracked!.data[0]);
  }

  protected override renormLimits(step: number): RenormLimits {
    return limitsAt(this.rMax, this.dMax, step);
  }
}
