// Learning-rate schedules: call step() once per epoch (or per step); each sets optimizer.lr from initialLr.
import type { Optimizer } from './optimizer.js';
import { hyper } from './optimizer.js';
import { ArgumentError } from '../tensor/errors.js';

/**
 * Base: counts steps and writes lr = factor(t) * initialLr. Subclasses call apply() at the end of their
 * constructor: from here their parameter properties (stepSize, tMax, ...) are not assigned yet, so factor(0)
 * would read undefined and set lr to NaN.
 */
export abstract class LRSchedule {
  t = 0;
  constructor(readonly optimizer: Optimizer) {
    if (!optimizer || typeof optimizer !== 'object' || !('lr' in optimizer)) throw new ArgumentError('schedule: first argument must be an optimizer');
  }
  /** Multiplier of the initial learning rate at step t. */
  abstract factor(t: number): number;
  /** Advances one step and updates the optimizer's lr. */
  step(): void {
    this.t++;
    this.apply();
  }
  /** Writes lr for the current step. */
  protected apply(): void {
    this.optimizer.lr = this.optimizer.initialLr * this.factor(this.t);
  }
}

/** StepLR: lr = lr0 * gamma^floor(t / stepSize). */
export class StepLR extends LRSchedule {
  constructor(opt: Optimizer, readonly stepSize: number, readonly gamma = 0.1) {
    hyper('StepLR', 'stepSize', stepSize, 1);
    hyper('StepLR', 'gamma', gamma, 0);
    super(opt);
    this.apply();
  }
  factor(t: number): number {
    return Math.pow(this.gamma, Math.floor(t / this.stepSize));
  }
}

/** CosineAnnealingLR: lr = etaMin + (lr0 - etaMin)(1 + cos(pi t / tMax)) / 2, held at etaMin after tMax. */
export class CosineLR extends LRSchedule {
  constructor(opt: Optimizer, readonly tMax: number, readonly etaMin = 0) {
    hyper('CosineLR', 'tMax', tMax, 1);
    hyper('CosineLR', 'etaMin', etaMin, 0);
    super(opt);
    this.apply();
  }
  factor(t: number): number {
    const lr0 = this.optimizer.initialLr;
    if (lr0 === 0) return 0;
    const tt = Math.min(t, this.tMax);
    return (this.etaMin + ((lr0 - this.etaMin) * (1 + Math.cos((Math.PI * tt) / this.tMax))) / 2) / lr0;
  }
}

/** Linear warmup (PyTorch's LinearLR): factor goes from startFactor to 1 over warmupSteps, then stays 1. */
export class LinearWarmup extends LRSchedule {
  constructor(opt: Optimizer, readonly warmupSteps: number, readonly startFactor = 1 / 3) {
    hyper('LinearWarmup', 'warmupSteps', warmupSteps, 1);
    hyper('LinearWarmup', 'startFactor', startFactor, 0, 1);
    super(opt);
    this.apply();
  }
  factor(t: number): number {
    return this.startFactor + ((1 - this.startFactor) * Math.min(t, this.warmupSteps)) / this.warmupSteps;
  }
}
